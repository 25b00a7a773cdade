using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>
/// The lab catches the reference kernel's historical bugs (pipelines/redox-reference-bugs.yaml)
/// and stores each as a finding whose backtrace the server symbolizes with the kernel ELF the
/// agent uploaded; a profiled boot (pipelines/redox-reference-profile.yaml) stores a profile whose
/// samples resolve to kernel functions.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class KernelFindingsTests(LabFixture lab)
{
    [Fact]
    public async Task PushBugsPipeline_EachBug_StoredAsItsFindingWithSymbolizedBacktrace()
    {
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Branch: "main", Pipeline: "pipelines/redox-reference-bugs.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(8));
        var jobs = run.Jobs.ToDictionary(j => j.Variant);

        var doubleFree = Finding(jobs["double-free"], "double-free");
        Assert.Equal(Outcome.TestFailed, jobs["double-free"].Outcome);
        Assert.Contains("p2buddy_free", doubleFree.Fields["bt.sym"], StringComparison.Ordinal);
        Assert.Contains("frame", doubleFree.Fields.Keys);

        var pageFault = Finding(jobs["page-fault"], "page-fault");
        Assert.Equal(Outcome.KernelPanic, jobs["page-fault"].Outcome);
        // The reference kernel also fires QEMU's pvpanic device after its panic markers; the agent hears it over QMP.
        Assert.Contains("the guest's panic device reported a panic", jobs["page-fault"].Boots.Single().Detail, StringComparison.Ordinal);
        Assert.Matches(@"^[a-z_][a-z0-9_]*\+0x[0-9a-f]+$", pageFault.Fields["rip.sym"]);
        Assert.False(string.IsNullOrWhiteSpace(pageFault.Fields["insn"]), "the faulting instruction is decoded");
        Assert.Contains("kmain", pageFault.Fields["bt.sym"], StringComparison.Ordinal);

        var tlb = jobs["skip-shootdown"];
        Assert.Equal(Outcome.TestFailed, tlb.Outcome);
        Assert.Contains(tlb.Boots.Single().Findings, f => f.Kind is "stale-tlb" or "use-after-free" or "double-free");
        Assert.Equal(["tlb.stress", "user.tlb"], FailedTests(tlb));

        Assert.Equal(Outcome.TestFailed, jobs["signal-leak"].Outcome);
        Assert.Equal(["leak.check"], FailedTests(jobs["signal-leak"]));
        Assert.True(jobs["signal-leak"].Boots.Single().Metrics.Single(m => m.Name == "signal.objects.leaked").Value > 0);

        var nullDeref = Finding(jobs["user-null-deref"], "user-page-fault");
        Assert.Equal("0x0", nullDeref.Fields["addr"]);
        Assert.Equal(["user.bootstrap"], FailedTests(jobs["user-null-deref"]));

        // The heavy prologue breaks no test: it only costs cycles, which bench/syscall measures.
        Assert.Equal(Outcome.Passed, jobs["heavy-prologue"].Outcome);
    }

    private Task<string> FoldedAsync(JobView job) => lab.Http.GetStringAsync($"/api/jobs/{job.Id}/boots/0/profile?format=folded");

    /// <summary>The share of a folded profile's samples with a function named <paramref name="prefix"/>* anywhere on the stack.</summary>
    private static double AllocatorShare(string folded, string prefix)
    {
        long all = 0, hit = 0;
        foreach (var line in folded.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.LastIndexOf(' ');
            var count = long.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            all += count;
            if (line[..space].Split(';').Any(f => f.StartsWith(prefix, StringComparison.Ordinal))) hit += count;
        }
        return all == 0 ? 0 : (double)hit / all;
    }

    /// <summary>The tests a bug switch broke, without the suite summary that fails with any of them.</summary>
    private static string[] FailedTests(JobView job) =>
        [.. job.Boots.Single().Tests.Where(t => t.Result == "fail" && t.Name != "suite").Select(t => t.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task PushProfilePipeline_ProfiledBoots_ProfilesStoredAndSymbolized()
    {
        var pushed = await lab.PushAsync(new PushRequest(lab.TestRepo, Branch: "main", Pipeline: "pipelines/redox-reference-profile.yaml"));
        var run = await lab.WaitForRunAsync(pushed.RunId, TimeSpan.FromMinutes(8));

        Assert.True(run.Outcome == Outcome.Passed, $"{run.Outcome}: {string.Join("; ", run.Jobs.Select(j => j.Detail))}");
        foreach (var job in run.Jobs)
        {
            var boot = Assert.Single(job.Boots);
            var profile = boot.Profile;
            Assert.NotNull(profile);
            Assert.True(profile.Samples > 0);
            Assert.True(profile.Symbolized);
            // Named from kernel.elf: the syscall path under the daemons' and bootstrap's syscalls is near the top
            // (kmain itself is not since the allocator's self-tests and bootstrap's benchmarks are paused out).
            Assert.Contains(profile.TopTotal, f => f.Name == "syscall_entry");
            Assert.InRange(profile.Samples, 1, boot.Metrics.Single(m => m.Name == "prof.samples.taken").Value);
            // The NMI clock interrupts ring 3 too (samples taken with CS.RPL 3), and bootstrap survives it:
            // before the I/O APIC clock, the 8259's vectors reached the BSP as ExtINT under QEMU and killed
            // bootstrap with a #GP in most profiled boots.
            Assert.True(boot.Metrics.Single(m => m.Name == "prof.samples.user").Value > 0, "no ring-3 samples");
            Assert.Contains(boot.Tests, t => t.Name == "user.bootstrap" && t.Result == "pass");
            Assert.Empty(boot.Findings);

            var folded = await FoldedAsync(job);
            Assert.Contains(";kmain;", folded, StringComparison.Ordinal);
            // The profiler keeps sampling while bootstrap runs: its user frames, named from bootstrap.elf, marked _[u].
            Assert.Contains("bootstrap;_start_[u];", folded, StringComparison.Ordinal);
            // The boot's daemons are their own command (the process's name), their user frames named from the
            // same bootstrap.elf; their heaps are mapped through mmap.
            Assert.Contains(folded.Split('\n'), l => l.StartsWith("daemon;", StringComparison.Ordinal) && l.Contains(";vm_mmap;", StringComparison.Ordinal));
            // Sampling starts before memory init (the BSP alone until SMP init), so SMP init, which waits
            // milliseconds for each AP and calibrates the local APIC timer, is in the profile; before, the
            // profiler started after it.
            Assert.Contains(";kmain;smp_init;", folded, StringComparison.Ordinal);
            // The allocator's own benchmark and fragmentation test are paused out: not boot work.
            Assert.DoesNotContain(";mm_bench", folded, StringComparison.Ordinal);
            Assert.DoesNotContain(";mm_fragmentation_test", folded, StringComparison.Ordinal);
        }

        // The differential of the two variants' profiles, normalised by each side's samples: kmain on both sides.
        var rmm = run.Jobs.Single(j => j.Variant == "rmm");
        var p2buddy = run.Jobs.Single(j => j.Variant == "p2buddy");
        using var diff = System.Text.Json.JsonDocument.Parse(await lab.Http.GetStringAsync($"/api/profiles/diff?base=job:{rmm.Id}&head=job:{p2buddy.Id}&top=10000"));
        var frames = diff.RootElement.GetProperty("frames").EnumerateArray().ToList();
        var kmain = frames.Single(f => f.GetProperty("name").GetString() == "kmain");
        Assert.True(kmain.GetProperty("baseTotal").GetDouble() > 0);
        Assert.True(kmain.GetProperty("headTotal").GetDouble() > 0);
        // Each variant links one allocator: the other's functions never appear on its side.
        Assert.All(frames.Where(f => f.GetProperty("name").GetString()!.StartsWith("rmm_", StringComparison.Ordinal)),
            f => Assert.Equal(0, f.GetProperty("headTotal").GetDouble()));
        Assert.All(frames.Where(f => f.GetProperty("name").GetString()!.StartsWith("p2buddy_", StringComparison.Ordinal)),
            f => Assert.Equal(0, f.GetProperty("baseTotal").GetDouble()));

        // The boot's daemons (kernel/user/init.c) start with each other's memory in use: rmm's first-fit scan
        // grows with it, p2buddy's free lists do not, so the allocator holds a larger share of the rmm boot than
        // of the p2buddy boot (bench/profile/run.sh, 10 boots each: 42-61% against 23-36%; kernel/README.md).
        var rmmShare = AllocatorShare(await FoldedAsync(rmm), "rmm_");
        var p2buddyShare = AllocatorShare(await FoldedAsync(p2buddy), "p2buddy_");
        Assert.True(rmmShare > p2buddyShare, $"rmm {rmmShare:P1} of its boot's samples, p2buddy {p2buddyShare:P1}");

        // A profile recorded elsewhere (the real Redox boot before p2buddy), attached to this run with the lab
        // command line as a developer would: it is listed with the run and its flamegraph folds the same stacks.
        var config = Path.Combine(lab.WorkDir, "lab-config-profiles");
        await File.WriteAllTextAsync(config, $"server = {lab.ServerUrl}\ntoken-file = {lab.AdminTokenFile}\n");
        var recorded = Path.Combine(LabFixture.RepoRoot, "tests", "Redox.Lab.Server.Tests", "Profiles", "Reference", "redox-boot-before.folded");
        using var cli = ChildProcess.StartDll("lab import-profile", LabFixture.LabDll,
            ["import-profile", recorded, "--run", run.Id.ToString(), "--name", "redox boot before p2buddy"],
            new Dictionary<string, string> { ["LAB_CONFIG"] = config });
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"lab import-profile exited {code}:\n{cli.Output}");
        var imported = Assert.Single((await lab.Http.GetFromJsonAsync<List<ImportedProfileView>>($"/api/runs/{run.Id}/profiles", LabApi.Json))!);
        Assert.Equal(("redox boot before p2buddy", "folded", 0L), (imported.Name, imported.Format, imported.SkippedLines));
        var samples = File.ReadLines(recorded).Where(l => l.Length > 0).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(samples, imported.Samples);
        Assert.Contains($"{imported.Ref}: redox boot before p2buddy, {samples} samples", cli.Output, StringComparison.Ordinal);
        Assert.Contains($"/profiles/flamegraph?profile={imported.Ref}", cli.Output, StringComparison.Ordinal);
    }

    private static FindingReport Finding(JobView job, string kind)
    {
        var boot = Assert.Single(job.Boots);
        var finding = boot.Findings.FirstOrDefault(f => f.Kind == kind);
        Assert.True(finding is not null, $"{job.Variant}: no {kind} finding among [{string.Join(", ", boot.Findings.Select(f => f.Kind))}] ({job.Outcome}: {job.Detail})");
        return finding;
    }
}
