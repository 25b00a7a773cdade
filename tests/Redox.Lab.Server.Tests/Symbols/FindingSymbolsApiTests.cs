using System.Net;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Tests.Artifacts;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Symbols;

[Collection(LabCollection.Name)]
public sealed class FindingSymbolsApiTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static BootReport BootWithFinding(KernelElf kernel) => new(
        0, Outcome.KernelPanic, null, T0, T0.AddSeconds(1), null, [], [], [],
        [new FindingReport("page-fault", new Dictionary<string, string>
        {
            ["rip"] = $"0x{kernel.Functions["serial_init"]:x}",
            ["addr"] = "0xdead000",
            ["bt"] = $"0x{kernel.Functions["kmain"] + 0x1a:x},0x{kernel.Functions["serial_init"]:x},0xdead000",
        }, 12)],
        0);

    [Fact]
    public async Task GetRun_FindingAfterKernelElfUpload_HasBtSymRipSymAndInsn()
    {
        var kernel = await KernelElf.GetAsync();
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sym");
        Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", BootWithFinding(kernel), LabFixture.Json)).StatusCode);

        var before = Assert.Single(Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Findings);
        Assert.False(before.Fields.ContainsKey("bt.sym"));

        Assert.Equal(HttpStatusCode.OK, (await ArtifactsApiTests.PutAsync(agent, job.JobId, "kernel.elf", kernel.Bytes)).StatusCode);
        var finding = Assert.Single(Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Findings);

        Assert.Equal("kmain+0x1a,serial_init+0x0,?", finding.Fields["bt.sym"]);
        Assert.Equal("serial_init+0x0", finding.Fields["rip.sym"]);
        var insn = finding.Fields["insn"];
        Assert.Equal(await kernel.ObjdumpMnemonicAsync(kernel.Functions["serial_init"]), insn.Split(' ')[0]);
        Assert.Equal("0xdead000", finding.Fields["addr"]);
        // The reference kernel is built with -g: file:line from its DWARF line table.
        // serial_init's first instruction is an inlined outb: DWARF names its header line, as addr2line does.
        Assert.Matches(@"^\S+\.[ch]:\d+$", finding.Fields["rip.src"]);
        Assert.StartsWith("main.c:", finding.Fields["bt.src"], StringComparison.Ordinal);

        using var client = lab.Client();
        var page = WebUtility.HtmlDecode(await client.GetStringAsync($"/runs/{job.RunId}"));
        Assert.Contains($"0x{kernel.Functions["kmain"] + 0x1a:x}", page, StringComparison.Ordinal);
        Assert.Contains(" kmain+0x1a  main.c:", page, StringComparison.Ordinal);
        Assert.Contains(" serial_init+0x0", page, StringComparison.Ordinal);
        Assert.Contains("rip.sym=serial_init+0x0", page, StringComparison.Ordinal);
        Assert.Contains("insn=", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRun_KernelElfNotAnElf_FindingsStayAsReported()
    {
        var kernel = await KernelElf.GetAsync();
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "badelf");
        var refused = await ArtifactsApiTests.PutAsync(agent, job.JobId, KernelSymbols.ArtifactName, kernel.Bytes[..100]);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", BootWithFinding(kernel), LabFixture.Json);

        var finding = Assert.Single(Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Findings);

        Assert.False(finding.Fields.ContainsKey("bt.sym"));
        Assert.Equal(3, finding.Fields.Count);
    }
}
