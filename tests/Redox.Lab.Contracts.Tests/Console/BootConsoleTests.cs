using System.Text;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Contracts.Tests.Pipelines;

namespace Redox.Lab.Contracts.Tests.Console;

public class BootConsoleTests
{
    private static readonly DateTimeOffset PoweredOn = new(2024, 3, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private static string M(string type, params (string, string)[] fields) => ConsoleMarkerParser.Format(type, fields);

    /// <summary>The reference kernel's boot as PROTOCOL.md shows it, with real checksums.</summary>
    private static readonly string[] ReferenceBoot =
    [
        M("hello", ("proto", "1"), ("kernel", "redox-lab-ref"), ("version", "0.1"), ("variant", "p2buddy")),
        M("tsc", ("hz", "2893112000"), ("base", "8123311")),
        M("stage", ("name", "entry"), ("tsc", "8123311")),
        M("stage", ("name", "long-mode"), ("tsc", "8200112")),
        "serial: COM1 at 115200 8N1",
        M("stage", ("name", "serial"), ("tsc", "8301212")),
        M("metric", ("name", "tsc.hz"), ("value", "2893112000"), ("unit", "Hz")),
        M("stage", ("name", "kmain-done"), ("tsc", "9123311")),
    ];

    private static readonly string EndPass = M("end", ("status", "pass"), ("code", "0"));

    internal static PipelineDefinition Pipeline(IReadOnlyList<StageSpec>? stages = null, IReadOnlyList<string>? panic = null, string? success = null)
    {
        var machine = new MachineRequirements([], 1, 256);
        var env = new Dictionary<string, string>();
        return new PipelineDefinition(
            "test", null,
            new BuildSpec(["make"], env, "kernel.bin", null, [], TimeSpan.FromMinutes(10)),
            new BootSpec(1, TimeSpan.FromSeconds(90), "", machine),
            TimeSpan.FromMinutes(30),
            new ConsoleSpec(panic ?? [], success),
            stages ?? [],
            [new VariantSpec("default", env, machine)]);
    }

    /// <summary>Feeds the lines, line i arriving (i + 1) steps after power-on.</summary>
    private static BootConsole Boot(PipelineDefinition pipeline, params string[] lines)
    {
        var console = new BootConsole(pipeline, PoweredOn);
        Feed(console, lines);
        return console;
    }

    private static void Feed(BootConsole console, params string[] lines)
    {
        foreach (var text in lines)
        {
            long index = console.LinesSeen;
            console.Accept(RawConsoleLine.FromText(text), PoweredOn + (Step * (index + 1)), index);
        }
    }

    private static BootReport Report(BootConsole console, bool timedOut = false) =>
        console.ToReport(0, PoweredOn + TimeSpan.FromSeconds(90), timedOut);

    [Fact]
    public void ToReport_MachineMarker_FingerprintOfTheCpuAsTheKernelSawIt()
    {
        // Printed by the reference kernel under QEMU -cpu Skylake-Server (TCG), checksum and all.
        const string machine = "@@LAB machine cpu=Intel%20Xeon%20Processor%20(Skylake) vendor=GenuineIntel family=6 model=85 stepping=4 microcode=0x1 *cde4739a";
        var console = Boot(Pipeline(), [.. ReferenceBoot[..2], machine, .. ReferenceBoot[2..], EndPass]);

        var report = console.ToReport(0, PoweredOn.AddSeconds(5), timedOut: false);

        Assert.Equal(0, report.CorruptMarkers);
        Assert.Equal(new Dictionary<string, string>
        {
            ["cpu"] = "Intel Xeon Processor (Skylake)",
            ["cpuid"] = "GenuineIntel family 6 model 85 stepping 4",
            ["microcode"] = "0x1",
        }, report.Fingerprint);
    }

    [Fact]
    public void ToReport_NoMachineMarkerOrABadOne_NoFingerprintAndTheBadOneCorrupt()
    {
        var without = Boot(Pipeline(), [.. ReferenceBoot, EndPass]).ToReport(0, PoweredOn.AddSeconds(5), timedOut: false);
        var bad = Boot(Pipeline(), [M("machine", ("cpu", "EPYC"), ("microcode", "patch-7")), .. ReferenceBoot, EndPass]).ToReport(0, PoweredOn.AddSeconds(5), timedOut: false);

        Assert.Null(without.Fingerprint);
        Assert.Null(bad.Fingerprint);
        Assert.Equal(1, bad.CorruptMarkers);
    }

    [Fact]
    public void ToReport_ReferenceBootWithPassingEnd_PassedWithKernelAndHostTimes()
    {
        var pipeline = PipelineLoader.Load(PipelineLoaderTests.ReferenceYaml(), "redox-reference.yaml");

        var console = Boot(pipeline, [.. ReferenceBoot, EndPass]);
        var report = Report(console);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Equal(2893112000L, report.TscHz);
        // The pipeline also lists a "tsc" stage the kernel never prints: it is absent, not zero.
        Assert.Equal(
            [
                new StageReport("entry", "marker", 0, 750_000_000),
                new StageReport("long-mode", "marker", 26546, 1_000_000_000),
                new StageReport("serial", "marker", 61491, 1_500_000_000),
                new StageReport("kmain-done", "marker", 345648, 2_000_000_000),
            ],
            report.Stages);
        Assert.Equal(new MetricReport("tsc.hz", 2893112000d, "Hz", 1, "value"), Assert.Single(report.Metrics));
        Assert.Equal("redox-lab-ref", console.Hello?.Kernel);
        Assert.Equal((PoweredOn, 0), (report.StartedAt, report.CorruptMarkers));
    }

    [Fact]
    public void ToReport_PipelineStagesRenamedAndOutOfOrder_ReportsPipelineNamesInPipelineOrder()
    {
        var pipeline = Pipeline([new StageSpec("boot", "entry", null), new StageSpec("done", "kmain-done", null), new StageSpec("never", "missing", null)]);

        var report = Report(Boot(pipeline, M("stage", ("name", "kmain-done")), M("stage", ("name", "other")), M("stage", ("name", "entry")), M("stage", ("name", "entry"))));

        Assert.Equal([("boot", 750_000_000L), ("done", 250_000_000L)], report.Stages.Select(s => (s.Name, s.HostNs)));
        Assert.All(report.Stages, s => Assert.Null(s.KernelNs));
    }

    [Fact]
    public void ToReport_PipelineWithoutStages_ReportsEveryStageMarkerInArrivalOrder()
    {
        var report = Report(Boot(Pipeline(), M("stage", ("name", "b")), M("stage", ("name", "a")), M("stage", ("name", "b"))));

        Assert.Equal(["b", "a"], report.Stages.Select(s => s.Name));
    }

    [Fact]
    public void ToReport_TscAnnouncedAfterStage_StillGivesKernelTime()
    {
        var report = Report(Boot(Pipeline(), M("stage", ("name", "early"), ("tsc", "3000")), M("tsc", ("hz", "1000"), ("base", "1000"))));

        Assert.Equal(2_000_000_000L, Assert.Single(report.Stages).KernelNs);
    }

    [Fact]
    public void ToReport_EndPassWithFailedTest_TestFailedNamingTheTest()
    {
        var console = Boot(Pipeline(),
            M("test", ("name", "alloc.order0"), ("result", "pass")),
            M("test", ("name", "alloc.free-twice"), ("result", "fail"), ("detail", "no finding")),
            M("test", ("name", "smp"), ("result", "skip")),
            EndPass);

        var report = Report(console);

        Assert.Equal(Outcome.TestFailed, report.Outcome);
        Assert.Equal("1 of 3 tests failed: alloc.free-twice", report.Detail);
        Assert.Equal(new TestReport("alloc.free-twice", "fail", "no finding"), report.Tests[1]);
    }

    [Fact]
    public void ToReport_EndStatusFail_TestFailedWithCode()
    {
        var report = Report(Boot(Pipeline(), M("end", ("status", "fail"), ("code", "3"))));

        Assert.Equal((Outcome.TestFailed, "end status=fail code=3"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_AllTestsPass_PassedCountingTests()
    {
        var report = Report(Boot(Pipeline(), M("test", ("name", "a"), ("result", "pass")), M("test", ("name", "b"), ("result", "skip")), EndPass));

        Assert.Equal((Outcome.Passed, "1 test passed, 1 skipped"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_FindingThenEndPanic_KernelPanicDescribingTheFinding()
    {
        var console = Boot(Pipeline(),
            "booting",
            M("finding", ("kind", "page-fault"), ("rip", "0xffffffff80012345"), ("addr", "0xdead000"), ("bt", "0xffffffff80012345,0xffffffff80010000")),
            M("end", ("status", "panic")));

        var report = Report(console);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.KernelPanic, report.Outcome);
        Assert.Equal("panic: page-fault at rip 0xffffffff80012345, addr 0xdead000; no stage reached", report.Detail);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(("page-fault", 1L, "0xffffffff80012345,0xffffffff80010000"), (finding.Kind, finding.Line, finding.Fields["bt"]));
    }

    [Fact]
    public void ToReport_PanicFindingThenEndPass_PanicWins()
    {
        var console = Boot(Pipeline(), M("finding", ("kind", "panic"), ("msg", "out of frames")), EndPass);

        var report = Report(console);

        Assert.Equal((Outcome.KernelPanic, "panic: out of frames; no stage reached"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void Accept_RedoxPanicLine_EndsAsKernelPanic()
    {
        var pipeline = Pipeline(panic: ["KERNEL PANIC"]);
        var console = Boot(pipeline, "kernel::arch::x86_64::start:INFO -- Redox OS starting...");
        Assert.False(console.Ended);

        Feed(console, "KERNEL PANIC: panicked at src/allocator/mod.rs:42:5: frame already free", "TRACE: ffffff0000123f00", "HALT");
        var report = Report(console);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.KernelPanic, report.Outcome);
        Assert.Equal("panic: KERNEL PANIC: panicked at src/allocator/mod.rs:42:5: frame already free; no stage reached", report.Detail);
    }

    [Fact]
    public void Accept_LinuxLogWithRegexes_StagesAndSuccess()
    {
        var pipeline = Pipeline(
            [new StageSpec("kernel", null, @"^\[ *[0-9.]+\] Linux version"), new StageSpec("init", null, "Run /init as init process"), new StageSpec("userspace", null, "login:")],
            panic: ["Kernel panic - not syncing"],
            success: "login:");

        var console = Boot(pipeline,
            "[    0.000000] Linux version 6.8.0 (gcc 13.2.0) #1 SMP PREEMPT_DYNAMIC",
            "[    0.512345] Freeing unused kernel image (initmem) memory: 2048K",
            "[    0.612345] Run /init as init process");
        Assert.False(console.Ended);
        Feed(console, "redox-lab login: ");
        var report = Report(console);

        Assert.True(console.Ended);
        Assert.Equal((Outcome.Passed, "success regex matched"), (report.Outcome, report.Detail));
        Assert.Equal([("kernel", "regex", 250_000_000L), ("init", "regex", 750_000_000L), ("userspace", "regex", 1_000_000_000L)], report.Stages.Select(s => (s.Name, s.Source, s.HostNs)));
    }

    [Fact]
    public void Accept_LinuxPanic_KernelPanicFromRegex()
    {
        var console = Boot(Pipeline(panic: ["Kernel panic - not syncing"], success: "login:"),
            "[    1.000000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)");

        Assert.Equal(Outcome.KernelPanic, Report(console).Outcome);
    }

    [Fact]
    public void Accept_RedoxLogWithoutMarkers_RegexStagesFirstMatchOnly()
    {
        // Real Redox kernel log formats (shared/reference/redox-kernel.md).
        var pipeline = Pipeline(
        [
            new StageSpec("start", null, "Redox OS starting"),
            new StageSpec("freelist", null, "Initial freelist consistent"),
            new StageSpec("bsp", null, "BSP: "),
            new StageSpec("userspace", null, "Bootstrap entry point: ([0-9a-f]+)"),
            new StageSpec("never", null, "never printed"), // keeps regex matching going after the others
        ]);

        var console = Boot(pipeline,
            "kernel::arch::x86_64::start:INFO -- Redox OS starting...",
            "kernel::memory:INFO -- Initial freelist consistent",
            "kernel::arch::x86_64::start:INFO -- BSP: 0 CPUs, TSC 2893 MHz",
            "kernel::arch::x86_64::start:INFO -- AP 1: online",
            "kernel::userspace:INFO -- Bootstrap entry point: 4000a0",
            "kernel::userspace:INFO -- Bootstrap entry point: 4000a0");
        var report = Report(console, timedOut: true);

        Assert.Equal(
            [("start", 250_000_000L), ("freelist", 500_000_000L), ("bsp", 750_000_000L), ("userspace", 1_250_000_000L)],
            report.Stages.Select(s => (s.Name, s.HostNs)));
        Assert.All(report.Stages, s => Assert.Equal(("regex", (long?)null), (s.Source, s.KernelNs)));
        Assert.Equal((4, "userspace"), (console.StageCount, console.LastStage));
        Assert.Equal((Outcome.BootTimeout, "no end marker after 90 s, last stage userspace; stages not reached: never"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_ReadableOutputWithoutEnd_BootTimeout()
    {
        var console = Boot(Pipeline(), ReferenceBoot);

        var report = Report(console, timedOut: true);

        Assert.False(console.Ended);
        Assert.Equal((Outcome.BootTimeout, "no end marker after 90 s, last stage kmain-done"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_NotEndedNotTimedOut_Pending()
    {
        Assert.Equal(Outcome.Pending, Report(Boot(Pipeline(), ReferenceBoot)).Outcome);
    }

    [Fact]
    public void ToReport_NothingArrived_NoOutput()
    {
        var report = Report(new BootConsole(Pipeline(), PoweredOn), timedOut: true);

        Assert.Equal((Outcome.NoOutput, "no console output in 90 s"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_UnprintableBytes_Garbage()
    {
        var console = new BootConsole(Pipeline(), PoweredOn);
        var random = new Random(7);
        byte[] noise = [0x00, 0x80, 0xF8, 0xFE, 0xFF, 0x1B, 0x7F]; // a wrong baud rate: none is printable or valid UTF-8 alone
        for (int i = 0; i < 20; i++)
        {
            var bytes = Enumerable.Range(0, 64).Select(_ => noise[random.Next(noise.Length)]).ToArray();
            "ok: "u8.CopyTo(bytes); // a few printable bytes do not make a line readable
            console.Accept(RawConsoleLine.FromBytes(bytes), PoweredOn + Step, i);
        }

        var report = Report(console, timedOut: true);

        Assert.Equal(Outcome.Garbage, report.Outcome);
        Assert.Equal($"no readable line in {20 * 65} bytes", report.Detail);
    }

    [Fact]
    public void ToReport_NoiseWithAnAccidentallyReadableShortLine_GarbageByShare()
    {
        // Random bytes hold newlines, so they make short lines, and now and then one reads as text.
        var console = new BootConsole(Pipeline(), PoweredOn);
        for (int i = 0; i < 10; i++)
        {
            console.Accept(RawConsoleLine.FromBytes(Enumerable.Repeat((byte)0xFE, 200).ToArray()), PoweredOn + Step, i);
        }

        console.Accept(RawConsoleLine.FromText("k9"), PoweredOn + Step, 10);

        var report = Report(console, timedOut: true);

        Assert.Equal(Outcome.Garbage, report.Outcome);
        Assert.Equal("2000 of 2013 bytes unprintable", report.Detail);
    }

    [Theory]
    [InlineData(4, 6, Outcome.Garbage)]
    [InlineData(5, 5, Outcome.BootTimeout)]
    [InlineData(6, 4, Outcome.BootTimeout)]
    public void ToReport_ShareOfUnprintableBytes_DecidesGarbage(int printable, int unprintable, Outcome expected)
    {
        var console = new BootConsole(Pipeline(), PoweredOn);
        byte[] line = [.. Enumerable.Repeat((byte)'k', printable), .. Enumerable.Repeat((byte)0xFF, unprintable)];

        console.Accept(RawConsoleLine.FromBytes(line), PoweredOn + Step, 0);

        Assert.Equal(expected, Report(console, timedOut: true).Outcome);
    }

    [Fact]
    public void ToReport_OnlyEmptyLines_Garbage()
    {
        var report = Report(Boot(Pipeline(), "", "   ", "\t"), timedOut: true);

        Assert.Equal((Outcome.Garbage, "no readable line in 7 bytes"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_OnlyCorruptMarkers_GarbageCountingThem()
    {
        string good = M("stage", ("name", "entry"));
        string Flip(char digit) => good[..^1] + (good[^1] == digit ? 'f' : digit); // a checksum off by its last digit
        var console = Boot(Pipeline(), Flip('0'), Flip('1'), "");

        var report = Report(console, timedOut: true);

        Assert.Equal(Outcome.Garbage, report.Outcome);
        Assert.Equal(2, report.CorruptMarkers);
        Assert.StartsWith("no readable line in", report.Detail, StringComparison.Ordinal);
        Assert.Contains("2 corrupt markers (first at line 0: checksum mismatch", report.Detail, StringComparison.Ordinal);
        Assert.Equal([0L, 1L], console.CorruptMarkerDetails.Select(c => c.Line));
    }

    [Fact]
    public void ToReport_CorruptMarkersInPassingBoot_CountedAndShown()
    {
        string broken = M("test", ("name", "x"), ("result", "fail")).Replace("result=fail", "result=pass", StringComparison.Ordinal);

        var report = Report(Boot(Pipeline(), broken, EndPass));

        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Empty(report.Tests);
        Assert.Equal(1, report.CorruptMarkers);
        Assert.StartsWith("end status=pass; 1 corrupt marker (first at line 0: checksum mismatch", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ToReport_ProfileWithMatchingCount_KeepsItsText()
    {
        var console = Boot(Pipeline(),
            M("profile-begin", ("format", "perf-script"), ("hz", "1000")),
            "kernel 0 [000] 1.000: cycles:",
            "\tffffffff80012345 kmain+0x45",
            "",
            M("profile-end", ("lines", "3"), ("samples", "1")),
            EndPass);

        var report = Report(console);

        Assert.Equal("kernel 0 [000] 1.000: cycles:\n\tffffffff80012345 kmain+0x45\n\n", report.Profile);
        Assert.Equal("end status=pass", report.Detail);
    }

    [Fact]
    public void ToReport_ProfileWithWrongCount_DroppedAndNoted()
    {
        var console = Boot(Pipeline(), M("profile-begin", ("format", "perf-script")), "one sample", M("profile-end", ("lines", "2")), EndPass);

        var report = Report(console);

        Assert.Null(report.Profile);
        Assert.Equal((Outcome.Passed, "end status=pass; profile corrupt: 1 lines arrived, profile-end says 2"), (report.Outcome, report.Detail));
    }

    [Fact]
    public void ToReport_ProfileNeverEnded_DroppedAndNoted()
    {
        var report = Report(Boot(Pipeline(), M("profile-begin", ("format", "perf-script")), "sample"), timedOut: true);

        Assert.Null(report.Profile);
        Assert.EndsWith("profile incomplete: no profile-end after 1 lines", report.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Accept_CatastrophicRegexOnLongLine_TimesOutAsNoMatch()
    {
        var console = Boot(Pipeline([new StageSpec("slow", null, "^(a+)+$")]), new string('a', 5000) + "!");

        Assert.Equal(0, console.StageCount);
        Assert.Equal(1, console.LinesSeen);
    }

    [Fact]
    public void Accept_InvalidUtf8AroundMarker_StillUsesMarker()
    {
        var console = new BootConsole(Pipeline(), PoweredOn);
        byte[] line = [0xFF, 0xFE, .. Encoding.ASCII.GetBytes(EndPass)];

        console.Accept(RawConsoleLine.FromBytes(line), PoweredOn + Step, 0);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.Passed, Report(console).Outcome);
    }
}
