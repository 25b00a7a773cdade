using System.Net;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Artifacts;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Profiles;

[Collection(LabCollection.Name)]
public sealed class ProfilesApiTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Three samples: two in serial_init called from kmain, one at an address outside every function.</summary>
    private static string PerfScript(KernelElf kernel)
    {
        var serial = kernel.Functions["serial_init"] + 4;
        var kmain = kernel.Functions["kmain"] + 0x20;
        return $"kernel 0 [000] 0.001: 1 cpu-clock:\n\t{serial:x} [unknown] (kernel)\n\t{kmain:x} [unknown] (kernel)\n\n" +
               $"kernel 0 [000] 0.002: 1 cpu-clock:\n\t{serial:x} [unknown] (kernel)\n\t{kmain:x} [unknown] (kernel)\n\n" +
               $"kernel 0 [000] 0.003: 1 cpu-clock:\n\tdead000 [unknown] (kernel)\n\t{kmain:x} [unknown] (kernel)\n";
    }

    private static BootReport BootWithProfile(int index, string profile) =>
        new(index, Outcome.Passed, null, T0, T0.AddSeconds(1), null, [], [], [], [], 0, profile);

    private static async Task<string> GetAsync(HttpClient client, Guid jobId, int index, string format)
    {
        var response = await client.GetAsync($"/api/jobs/{jobId}/boots/{index}/profile?format={format}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task GetProfile_ElfUploadedAfterTheBoot_RefoldsWithFunctionNames()
    {
        var kernel = await KernelElf.GetAsync();
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "prof");
        var raw = PerfScript(kernel);
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", BootWithProfile(0, raw), LabFixture.Json);
        using var client = lab.Client();

        var hex = await GetAsync(client, job.JobId, 0, "folded");
        var unsymbolized = Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Profile;
        Assert.Equal(await GetAsync(client, job.JobId, 0, "raw"), raw);
        Assert.StartsWith($"kernel;[kernel <{kernel.Functions["kmain"] + 0x20:x}>];", hex, StringComparison.Ordinal);
        Assert.False(unsymbolized!.Symbolized);

        Assert.Equal(HttpStatusCode.OK, (await ArtifactsApiTests.PutAsync(agent, job.JobId, "kernel.elf", kernel.Bytes)).StatusCode);
        var folded = await GetAsync(client, job.JobId, 0, "folded");
        var profile = Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Profile!;

        Assert.Equal("kernel;kmain;[kernel <dead000>] 1\nkernel;kmain;serial_init 2\n", folded);
        Assert.Equal(3, profile.Samples);
        Assert.True(profile.Symbolized);
        Assert.Equal(new FunctionSamples("serial_init", 2, 2), profile.TopSelf[0]);
        Assert.Equal(new FunctionSamples("kmain", 0, 3), profile.TopTotal[0]);
        var page = await client.GetStringAsync($"/runs/{job.RunId}");
        Assert.Contains("3 samples", page, StringComparison.Ordinal);
        Assert.Contains("Top functions by self samples", page, StringComparison.Ordinal);
        Assert.Contains("Top functions by total samples", page, StringComparison.Ordinal);
        Assert.Contains("66.7%", page, StringComparison.Ordinal);
        Assert.Contains("100.0%", page, StringComparison.Ordinal);
        Assert.Contains($"/api/jobs/{job.JobId}/boots/0/profile?format=folded", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportBoot_ElfAlreadyStored_FoldsSymbolizedAndAReportAgainReplacesIt()
    {
        var kernel = await KernelElf.GetAsync();
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "prof2");
        await ArtifactsApiTests.PutAsync(agent, job.JobId, "kernel.elf", kernel.Bytes);
        var url = $"/api/agent/jobs/{job.JobId}/boots/1";

        await agent.PostAsJsonAsync(url, BootWithProfile(1, PerfScript(kernel)), LabFixture.Json);
        await agent.PostAsJsonAsync(url, BootWithProfile(1, PerfScript(kernel)), LabFixture.Json);
        using var client = lab.Client();

        Assert.Equal("kernel;kmain;[kernel <dead000>] 1\nkernel;kmain;serial_init 2\n", await GetAsync(client, job.JobId, 1, "folded"));
        await agent.PostAsJsonAsync(url, BootWithProfile(1, null!), LabFixture.Json);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.JobId}/boots/1/profile")).StatusCode);
        Assert.Null(Assert.Single((await lab.RunAsync(job.RunId)).Jobs.Single(j => j.Id == job.JobId).Boots).Profile);
    }

    [Fact]
    public async Task GetProfile_UnknownFormat_Returns400()
    {
        using var client = lab.Client();

        var response = await client.GetAsync($"/api/jobs/{Guid.NewGuid()}/boots/0/profile?format=svg");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
