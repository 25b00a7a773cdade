using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Console.Adapters;

namespace Redox.Lab.Contracts.Tests.Console.Adapters;

public class RedoxConsoleAdapterTests
{
    [Fact]
    public void Accept_CurrentPageFaultPanic_OneFindingWithMessageLocationRegistersAndBothTraces()
    {
        var adapter = new RedoxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("redox-2024-page-fault.log"));

        var finding = Assert.Single(adapter.Findings());
        var f = finding.Fields;
        Assert.Equal("page-fault", finding.Kind);
        Assert.Equal(7, finding.Line);
        Assert.Equal("kernel page fault", f["msg"]);
        Assert.Equal("src/arch/x86_64/interrupt/exception.rs:142:13", f["file"]);
        Assert.Equal("0x0000000000000018", f["addr"]);
        Assert.Equal("PageFaultError( WRITE, )", f["flags"]);
        Assert.Equal("0xffffffff8001c3e2", f["rip"]);
        Assert.Equal("0xfffffe8000043da0", f["rbp"]);
        Assert.Equal("0xffffffff8001c3e2,0xffffffff80021a10", f["bt"]);
        Assert.Equal("kernel::context::memory::Grant::unmap,kernel::syscall::fs::sys_close", f["bt.sym"]);
        Assert.Equal("GUARD PAGE", f["bt.end"]);
        Assert.Equal("0xffffffff80009a00,0xffffffff8001f210", f["bt.panic"]);
        Assert.Equal("rust_begin_unwind,?", f["bt.panic.sym"]);
        Assert.Equal("EMPTY RETURN", f["bt.panic.end"]);
        Assert.Equal("0", f["cpu"]);
        Assert.Equal("0xffffff7f8000a000", f["cid"]);
        Assert.Equal("/usr/bin/init", f["name"]);
        Assert.Equal("3", f["debug-id"]);
        Assert.Equal("close(3)", f["syscall"]);
        Assert.Same(adapter.Panic, adapter.Panic);
        Assert.NotNull(adapter.Panic);
        Assert.Equal(Outcome.KernelPanic, adapter.End?.Outcome);
    }

    [Fact]
    public void Accept_CurrentBootLog_MilestonesAsStagesAndWarningsCounted()
    {
        var adapter = new RedoxConsoleAdapter();
        var lines = AdapterLogs.Feed(adapter, AdapterLogs.Lines("redox-2024-page-fault.log"));

        Assert.Equal(["start", "freelist", "bsp", "ap", "bootstrap"], lines.Where(l => l.Stage is not null).Select(l => l.Stage));
        Assert.Equal(1, adapter.Warnings);
        Assert.Equal(0, adapter.Errors);
        Assert.Contains(adapter.Metrics(), m => m.Name == "console.warnings" && m.Value == 1);
        Assert.All(lines.Skip(7), l => Assert.True(l.Claimed));
    }

    [Fact]
    public void Accept_2019To2023Panic_MessageOnTheLineTraceFramesCpuPidName()
    {
        var adapter = new RedoxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("redox-2020-panic.log"));

        var finding = Assert.Single(adapter.Findings());
        Assert.Equal("panic", finding.Kind);
        Assert.Equal("frame allocator out of memory", finding.Fields["msg"]);
        Assert.Equal("0xffffff0000493e88", finding.Fields["rbp"]);
        Assert.Equal("0xffffffff8001c0d4,0xffffffff8002a817,0xffffffff80010a12", finding.Fields["bt"]);
        Assert.Equal("kernel::panic::panic_fmt,kernel::memory::allocate_frames,?", finding.Fields["bt.sym"]);
        Assert.Equal("2", finding.Fields["cpu"]);
        Assert.Equal("5", finding.Fields["pid"]);
        Assert.Equal("ion", finding.Fields["name"]);
        Assert.True(adapter.Ended);
    }

    [Fact]
    public void Accept_2017Panic_FileAndLineJoinedGuardPageEndsTheWalk()
    {
        var adapter = new RedoxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("redox-2017-panic.log"));

        var finding = Assert.Single(adapter.Findings());
        Assert.Equal("attempt to subtract with overflow", finding.Fields["msg"]);
        Assert.Equal("src/scheme/memory.rs:58", finding.Fields["file"]);
        Assert.Equal("0xffffffff80011f83,0xffffffff800277ee", finding.Fields["bt"]);
        Assert.Equal("GUARD PAGE", finding.Fields["bt.end"]);
        Assert.Equal(Outcome.KernelPanic, adapter.End?.Outcome);
    }

    [Fact]
    public void Accept_PanicBeforeRust173_QuotedMessageAndLocation()
    {
        var adapter = new RedoxConsoleAdapter();
        adapter.Accept("KERNEL PANIC: panicked at 'index out of bounds: the len is 3 but the index is 7', src/context/list.rs:88:9", 0);

        var f = Assert.Single(adapter.Findings()).Fields;
        Assert.Equal("index out of bounds: the len is 3 but the index is 7", f["msg"]);
        Assert.Equal("src/context/list.rs:88:9", f["file"]);
    }

    [Fact]
    public void Accept_UserModeFaultWithoutPanic_FindingButNoPanicAndNoEnd()
    {
        var adapter = new RedoxConsoleAdapter();
        AdapterLogs.Feed(adapter,
        [
            "Protection fault code=0x10",
            "RIP:   0000000000401a2b",
            "  FP 00007ffffffff000: PC 0000000000401a2b",
            "kernel::syscall:INFO -- killing context 4",
        ]);

        var finding = Assert.Single(adapter.Findings());
        Assert.Equal("protection-fault", finding.Kind);
        Assert.Equal("0x10", finding.Fields["err"]);
        Assert.Equal("0x0000000000401a2b", finding.Fields["rip"]);
        Assert.False(adapter.Ended);
    }

    [Fact]
    public void BootConsole_RedoxAdapterWithoutRegexes_PanicWithMessageAndLastStageNamed()
    {
        var console = AdapterLogs.Boot(AdapterLogs.Pipeline("redox"), AdapterLogs.Lines("redox-2024-page-fault.log"));
        var report = AdapterLogs.Report(console, timedOut: false, BootStop.None);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.KernelPanic, report.Outcome);
        Assert.StartsWith("page-fault: kernel page fault at rip 0xffffffff8001c3e2, addr 0x0000000000000018; last stage bootstrap", report.Detail);
        Assert.Equal(["start", "freelist", "bsp", "ap", "bootstrap"], report.Stages.Select(s => s.Name));
        Assert.All(report.Stages, s => Assert.Equal("adapter", s.Source));
        Assert.Equal("page-fault", Assert.Single(report.Findings).Kind);
    }

    [Fact]
    public void BootConsole_HaltWithoutPanic_TestFailedEndLine()
    {
        var console = AdapterLogs.Boot(AdapterLogs.Pipeline("redox"), ["kernel::arch::x86_64::start:INFO -- Redox OS starting...", "Double fault", "HALT"]);
        var report = AdapterLogs.Report(console, timedOut: false, BootStop.None);

        Assert.Equal(Outcome.TestFailed, report.Outcome);
        Assert.Contains("end line 2: HALT", report.Detail);
        Assert.Equal("double-fault", Assert.Single(report.Findings).Kind);
    }

    [Fact]
    public void BootConsole_PipelineStageNamesAdapterMilestone_MissingStagesNamedOnTimeout()
    {
        var yaml = AdapterLogs.Pipeline("redox", """
            stages:
              - { name: start, marker: start }
              - { name: userspace, marker: bootstrap }
              - { name: login, regex: 'login:' }
            """);
        var console = AdapterLogs.Boot(yaml, ["kernel::arch::x86_64::start:INFO -- Redox OS starting..."]);
        var report = AdapterLogs.Report(console);

        Assert.Equal(Outcome.BootTimeout, report.Outcome);
        Assert.Contains("last stage start", report.Detail);
        Assert.Contains("stages not reached: userspace, login", report.Detail);
    }
}
