using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// Push a branch; the real server schedules it, the real agent builds this checkout's kernel and
/// boots it in the real QEMU; the boot stages and the outcome land in PostgreSQL.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReferenceKernelBootTests(LabFixture lab)
{
    private static readonly string[] Stages = ["entry", "long-mode", "serial", "tsc", "mm", "smp", "bootstrap", "kmain-done"];

    [Fact]
    public async Task PushBranch_ReferenceKernel_StagesAndOutcomeStoredInPostgres()
    {
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Branch: "main"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(5));

        Assert.True(run.Outcome == Outcome.Passed, $"run ended {run.Outcome}: {string.Join("; ", run.Jobs.Select(j => j.Detail))}\n{lab.Diagnostics()}");
        Assert.Equal(["p2buddy", "rmm"], run.Jobs.Select(j => j.Variant).Order());
        await using var db = await lab.OpenDatabaseAsync();
        foreach (var job in run.Jobs)
        {
            var boot = Assert.Single(job.Boots);
            Assert.Equal(Stages, boot.Stages.Select(s => s.Name).Where(Stages.Contains));
            Assert.All(boot.Stages, s => Assert.True(s.KernelNs is not null && s.HostNs > 0, $"{s.Name}: kernel {s.KernelNs} host {s.HostNs}"));
            var kernelTimes = boot.Stages.Select(s => s.KernelNs!.Value).ToList();
            Assert.Equal(kernelTimes.Order(), kernelTimes);
            Assert.True(boot.TscHz > 0);
            Assert.Equal(0, boot.CorruptMarkers);
            Assert.Equal(4, boot.Metrics.Single(m => m.Name == "smp.cpus.started").Value);
            Assert.All(boot.Tests, t => Assert.Equal("pass", t.Result));
            Assert.Contains(boot.Tests, t => t.Name == "syscall.abi");
            Assert.True(boot.Metrics.Single(m => m.Name == "syscall.enosys.cycles").Value > 0);

            // The same facts, read from PostgreSQL itself rather than through the API.
            Assert.Equal("passed", await Scalar<string>(db, "select outcome from boots where job_id = @id", job.Id));
            Assert.Equal(boot.Stages.Count, await Scalar<long>(db, "select count(*) from boot_stages s join boots b on b.id = s.boot_id where b.job_id = @id", job.Id));
            Assert.Equal(1L, await Scalar<long>(db, "select count(*) from console_lines where job_id = @id and text like '%@@LAB end %'", job.Id));
        }

        // The kernel's machine marker reached the machine's drift fingerprint: the CPU as the kernel saw it.
        var machines = (await lab.Http.GetFromJsonAsync<List<MachineView>>("/api/machines", LabApi.Json))!;
        var machine = machines.Single(m => m.Agent == run.Jobs[0].Agent && m.Name == run.Jobs[0].Machine);
        Assert.NotNull(machine.Fingerprint);
        Assert.All(new[] { "cpu", "cpuid", "microcode", "tsc_mhz" }, key => Assert.True(machine.Fingerprint.ContainsKey(key), $"{key} missing from {string.Join(", ", machine.Fingerprint)}"));
    }

    [Fact]
    public async Task PushCommit_BuildFails_BuildFailedWithBuildLogKept()
    {
        var commit = lab.Commit("pipelines/broken-build.yaml", """
            name: broken-build
            build:
              commands: ["echo compiling the kernel; echo 'error: kernel.c:1: no such thing' >&2; exit 3"]
              artifacts: { image: kernel/build/kernel.bin }
            """, "a pipeline whose build fails");

        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/broken-build.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(3));

        Assert.Equal(Outcome.BuildFailed, run.Outcome);
        var console = await lab.GetConsoleAsync(run.Jobs[0].Id);
        Assert.Contains(console, l => l.Boot == -1 && l.Text.Contains("compiling the kernel", StringComparison.Ordinal));
        Assert.Contains(console, l => l.Text.Contains("no such thing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PushCommit_ImageIsNotAKernel_NoOutputAndKernelsFault()
    {
        var commit = lab.Commit("pipelines/not-a-kernel.yaml", """
            name: not-a-kernel
            build:
              commands: ["mkdir -p out && head -c 8192 /dev/zero > out/zero.bin"]
              artifacts: { image: out/zero.bin }
            boot: { timeout: 20s }
            """, "an image QEMU cannot boot");

        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/not-a-kernel.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(3));

        Assert.Equal(Outcome.NoOutput, run.Outcome);
        Assert.Equal(OutcomeKind.Kernel, run.Outcome.Kind());
    }

    [Fact]
    public async Task PushCommit_MalformedPipeline_RunErrorsWithLineAndField()
    {
        var commit = lab.Commit("pipelines/malformed.yaml", """
            name: malformed
            build:
              commands: [make]
              artifacts: { image: kernel.bin }
            boot:
              timeout: 90 parsecs
            """, "a malformed pipeline");

        // Accepted at once; the background resolution reads the pipeline and ends the run with the reason.
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Commit: commit, Pipeline: "pipelines/malformed.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(2));

        Assert.Equal(Outcome.Error, run.Outcome);
        Assert.Empty(run.Jobs);
        Assert.Contains("malformed.yaml:6", run.Detail, StringComparison.Ordinal);
        Assert.Contains("boot.timeout", run.Detail, StringComparison.Ordinal);
    }

    private static async Task<T> Scalar<T>(Npgsql.NpgsqlConnection db, string sql, Guid id)
    {
        await using var cmd = new Npgsql.NpgsqlCommand(sql, db);
        cmd.Parameters.AddWithValue("id", id);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
