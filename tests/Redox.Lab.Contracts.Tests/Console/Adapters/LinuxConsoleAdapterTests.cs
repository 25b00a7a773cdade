using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Console.Adapters;

namespace Redox.Lab.Contracts.Tests.Console.Adapters;

public class LinuxConsoleAdapterTests
{
    [Fact]
    public void Accept_PrintkTimestamp_KernelTimeInNanoseconds()
    {
        var adapter = new LinuxConsoleAdapter();

        Assert.Equal(1_935_426_000L, adapter.Accept("[    1.935426] Run /init as init process", 0).KernelNs);
        Assert.Equal("init", adapter.Accept("[    1.935426] Run /init as init process", 1).Stage);
        Assert.Null(adapter.Accept("lab: userspace up", 2).KernelNs);
        Assert.Equal(12_000_001_000L, adapter.Accept("[   12.000001][    T1] Linux version 6.1", 3).KernelNs);
    }

    [Fact]
    public void BootConsole_RecordedPowerOff_PassedByEndLineWithKernelTimesOnStages()
    {
        var yaml = AdapterLogs.Pipeline("linux", """
            stages:
              - { name: start, marker: start }
              - { name: init, regex: 'Run /init as init process' }
              - { name: userspace, regex: '^lab: userspace up' }
            """);
        var console = AdapterLogs.Boot(yaml, AdapterLogs.Lines("linux-poweroff.log"));
        var report = AdapterLogs.Report(console, timedOut: false, BootStop.None);

        Assert.True(console.Ended);
        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Contains("reboot: Power down", report.Detail);
        Assert.Equal(["start", "init", "userspace"], report.Stages.Select(s => s.Name));
        Assert.Equal(0L, report.Stages[0].KernelNs);
        Assert.Equal(1_935_426_000L, report.Stages[1].KernelNs);
        Assert.Null(report.Stages[2].KernelNs); // printed by userspace: no printk time
        Assert.Empty(report.Findings);
        Assert.DoesNotContain("warning", report.Detail); // "panic=-1" and "report a bug" are not crashes
    }

    [Fact]
    public void Accept_RecordedVfsPanic_PanicFindingWithCallTraceWithoutUnreliableFrames()
    {
        var adapter = new LinuxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("linux-panic-vfs.log"));

        var finding = Assert.Single(adapter.Findings());
        Assert.Equal("panic", finding.Kind);
        Assert.Equal("VFS: Unable to mount root fs on unknown-block(0,0)", finding.Fields["msg"]);
        Assert.Equal("0", finding.Fields["cpu"]);
        Assert.Equal("swapper/0", finding.Fields["comm"]);
        Assert.Equal(
            "dump_stack_lvl+0x44/0x5c,panic+0x118/0x2f4,mount_block_root+0x1d3/0x1e6,prepare_namespace+0x136/0x165,kernel_init_freeable+0x25c/0x286,kernel_init+0x16/0x130,ret_from_fork+0x22/0x30",
            finding.Fields["bt.sym"]);
        Assert.False(finding.Fields.ContainsKey("bt"));
        Assert.NotNull(adapter.Panic);
    }

    [Fact]
    public void Accept_RecordedSysrqCrash_RipCodeDecodedAndTrace()
    {
        var adapter = new LinuxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("linux-sysrq-crash.log"));

        var f = Assert.Single(adapter.Findings()).Fields;
        Assert.Equal("sysrq triggered crash", f["msg"]);
        Assert.Equal("0x47b7a0", f["rip"]);
        Assert.Equal("user", f["mode"]);
        Assert.Equal("cmp rax,0FFFFFFFFFFFFF000h", f["insn"]);
        Assert.Equal("0x00007ffcb682ac78", f["rsp"]);
        Assert.StartsWith("dump_stack_lvl+0x44/0x5c,panic+0x118/0x2f4,sysrq_handle_crash+0x16/0x20,", f["bt.sym"]);
        Assert.EndsWith(",entry_SYSCALL_64_after_hwframe+0x6e/0xd8", f["bt.sym"]);
    }

    [Fact]
    public void Accept_NullDerefOopsThenFatalException_OneFindingWithOopsPanicAndDecodedInstruction()
    {
        var adapter = new LinuxConsoleAdapter();
        AdapterLogs.Feed(adapter, AdapterLogs.Lines("linux-null-deref-oops.log"));

        var finding = Assert.Single(adapter.Findings());
        var f = finding.Fields;
        Assert.Equal("null-deref", finding.Kind);
        Assert.Equal(0, finding.Line);
        Assert.Equal("BUG: kernel NULL pointer dereference, address: 0000000000000000", f["title"]);
        Assert.Equal("0x0000000000000000", f["addr"]);
        Assert.Equal("0002 [#1] PREEMPT SMP NOPTI", f["oops"]);
        Assert.Equal("crash_init+0x15/0x1000 [crashmod]", f["rip.sym"]);
        Assert.Equal("kernel", f["mode"]);
        Assert.Equal("mov dword ptr [0],1", f["insn"]);
        Assert.Equal("insmod", f["comm"]);
        Assert.Equal("crashmod(O+)", f["modules"]);
        Assert.Equal("Fatal exception", f["panic"]);
        Assert.Equal(
            "do_one_initcall+0x46/0x210,do_init_module+0x4a/0x200,__do_sys_finit_module+0x9e/0xf0,do_syscall_64+0x5b/0xc0,entry_SYSCALL_64_after_hwframe+0x63/0xcd",
            f["bt.sym"]);
        Assert.Same(adapter.Panic, adapter.Panic);
        Assert.True(adapter.Ended);
    }

    [Theory]
    [InlineData("BUG: KASAN: double-free in kfree+0x8c/0x2a0", "kasan-double-free")]
    [InlineData("BUG: KASAN: slab-use-after-free in foo+0x1/0x2", "kasan-slab-use-after-free")]
    [InlineData("BUG: unable to handle page fault for address: ffffc90000abc000", "page-fault")]
    [InlineData("general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP KASAN", "general-protection-fault")]
    [InlineData("Oops: general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] SMP", "general-protection-fault")]
    [InlineData("kernel BUG at mm/slub.c:432!", "bug")]
    [InlineData("WARNING: CPU: 0 PID: 1 at kernel/fork.c:123 copy_process+0x1a/0x30", "warning")]
    [InlineData("invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "invalid-opcode")]
    public void Accept_CrashHeaders_KindLikeSyzbotTitles(string header, string kind)
    {
        var adapter = new LinuxConsoleAdapter();
        adapter.Accept("[    5.000000] " + header, 0);

        var finding = Assert.Single(adapter.Findings());
        Assert.Equal(kind, finding.Kind);
        Assert.Equal(header, finding.Fields["title"]);
        Assert.False(adapter.Ended); // an Oops alone does not stop the machine; "Kernel panic" does
    }

    [Fact]
    public void Accept_RebootRestarting_MachineResetEnd()
    {
        var adapter = new LinuxConsoleAdapter();
        adapter.Accept("[    3.000000] reboot: Restarting system", 4);

        Assert.Equal(new EndLine(Outcome.MachineReset, "reboot: Restarting system", 4), adapter.End);
    }

    [Fact]
    public void BootConsole_PipelineEndLineOverridesAdapterDefault()
    {
        var yaml = AdapterLogs.Pipeline("linux", """
              end:
                - { regex: 'reboot: Power down', outcome: test-failed }
            """);
        var console = AdapterLogs.Boot(yaml, ["[    2.0] reboot: Power down"]);

        Assert.Equal(Outcome.TestFailed, AdapterLogs.Report(console, false, BootStop.None).Outcome);
    }

    [Fact]
    public void BootConsole_UnclaimedCrashLikeLine_WarningNoteOnTheBoot()
    {
        var console = AdapterLogs.Boot(AdapterLogs.Pipeline("linux"), ["[    1.0] foo: Oops, something odd", "[    2.0] reboot: Power down"]);
        var report = AdapterLogs.Report(console, false, BootStop.None);

        Assert.Equal(Outcome.Passed, report.Outcome);
        Assert.Contains("warning: 1 line that look like a crash but no pattern claimed (first at line 0: [    1.0] foo: Oops, something odd)", report.Detail);
    }

    [Theory]
    [InlineData(BootStop.PoweredOff, Outcome.Passed)]
    [InlineData(BootStop.Reset, Outcome.MachineReset)]
    [InlineData(BootStop.GuestPanic, Outcome.KernelPanic)]
    [InlineData(BootStop.Silence, Outcome.BootTimeout)]
    public void BootConsole_MachineStoppedWithoutEndLine_OutcomeFromHowItStopped(BootStop stop, Outcome outcome)
    {
        var console = AdapterLogs.Boot(AdapterLogs.Pipeline("lab"), ["hello from a kernel"]);

        Assert.Equal(outcome, AdapterLogs.Report(console, timedOut: true, stop).Outcome);
    }
}
