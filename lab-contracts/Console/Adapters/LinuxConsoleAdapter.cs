using System.Globalization;
using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Contracts.Console.Adapters;

/// <summary>
/// Linux's console (ADAPTERS.md, "linux"): printk timestamps as kernel time, boot milestones, and
/// the crash reports the kernel prints (<c>Kernel panic - not syncing:</c>, <c>BUG:</c>, <c>Oops:</c>,
/// <c>general protection fault</c>, <c>KASAN:</c>, <c>WARNING: CPU:</c>, <c>kernel BUG at</c>) with
/// their <c>RIP:</c>, <c>Code:</c> (the faulting instruction decoded), registers and <c>Call Trace:</c>
/// frames, up to <c>---[ end trace</c>; <c>reboot: Power down</c> ends a boot as passed.
/// </summary>
public sealed partial class LinuxConsoleAdapter : ConsoleAdapter
{
    /// <summary>A panic this many lines after a crash report is that report's consequence (Oops, then "Fatal exception").</summary>
    private const int PanicFollowsWithin = 100;

    private FindingBuilder? _crash;      // the open report
    private FindingBuilder? _lastCrash;  // the last one, open or closed
    private long _lastCrashLine;
    private bool _inTrace;

    public override string Name => "linux";

    public override AdapterLine Accept(string text, long lineIndex)
    {
        long? kernelNs = null;
        string line = text.TrimEnd();
        var stamp = Try(Timestamp(), line);
        if (stamp.Success)
        {
            kernelNs = Nanoseconds(stamp.Groups["s"].Value, stamp.Groups["frac"].Value);
            line = line[stamp.Length..];
        }

        if (StartCrash(line, lineIndex) || (_crash is not null && ReadCrashLine(line)))
        {
            _lastCrashLine = lineIndex;
            return new AdapterLine(kernelNs, null, Claimed: true);
        }

        if (line.StartsWith("reboot: ", StringComparison.Ordinal) && End is null)
        {
            var outcome = line switch
            {
                "reboot: Power down" or "reboot: System halted" => Outcome.Passed,
                "reboot: Restarting system" => Outcome.MachineReset,
                _ => (Outcome?)null,
            };
            if (outcome is { } o)
            {
                End = new EndLine(o, line, lineIndex);
                return new AdapterLine(kernelNs, null, Claimed: false);
            }
        }

        return new AdapterLine(kernelNs, Milestone(line), Claimed: false);
    }

    /// <summary>Seconds and the fraction's digits (printk prints six) as nanoseconds; null when out of range.</summary>
    private static long? Nanoseconds(string seconds, string fraction)
    {
        if (!long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out long s) || s > long.MaxValue / 1_000_000_000 - 1)
        {
            return null;
        }

        string nine = fraction.Length >= 9 ? fraction[..9] : fraction.PadRight(9, '0');
        return s * 1_000_000_000 + long.Parse(nine, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    private static string? Milestone(string line)
    {
        if (line.StartsWith("Linux version ", StringComparison.Ordinal)) return "start";
        if (line.StartsWith("smp: Brought up ", StringComparison.Ordinal)) return "smp";
        if (line.StartsWith("Freeing unused kernel image", StringComparison.Ordinal)) return "free-init";
        if (Try(RunInit(), line).Success) return "init";
        return null;
    }

    private bool StartCrash(string line, long lineIndex)
    {
        var panic = Try(PanicLine(), line);
        if (panic.Success)
        {
            string msg = panic.Groups["msg"].Value.Trim();
            // "Fatal exception" after an Oops, "Attempted to kill init" after a fault in init: the panic
            // completes the report that caused it; alone, it is its own finding.
            if (_lastCrash is { } last && last.Kind != "warning" && last["panic"] is null && lineIndex - _lastCrashLine <= PanicFollowsWithin)
            {
                last.Set("panic", msg);
                _crash = last;
            }
            else
            {
                _crash = Open("panic", lineIndex);
                _crash.Set("msg", msg);
                _crash.Set("title", "kernel panic: " + msg);
                _lastCrash = _crash;
            }

            Panic ??= _crash;
            _inTrace = false;
            return true;
        }

        if (Header(line) is not { } header)
        {
            return false;
        }

        // "BUG: kernel NULL pointer dereference", "#PF: …", then "Oops: 0002 [#1] …": one report.
        if (header.Kind == "oops" && _crash is not null && _crash["oops"] is null)
        {
            _crash.Set("oops", header.Msg);
            return true;
        }

        _crash = Open(header.Kind, lineIndex);
        _crash.Set("title", line.Trim());
        _crash.Set("msg", header.Msg);
        if (header.Location is { } location) _crash.Set("file", location);
        if (header.Address is { } address) _crash.Set("addr", address);
        _lastCrash = _crash;
        _inTrace = false;
        return true;
    }

    private static (string Kind, string Msg, string? Location, string? Address)? Header(string line)
    {
        var bug = Try(BugLine(), line);
        if (bug.Success)
        {
            string msg = bug.Groups["msg"].Value.Trim();
            var kasan = Try(Kasan(), msg);
            string kind = kasan.Success ? "kasan-" + kasan.Groups["what"].Value.ToLowerInvariant()
                : msg.StartsWith("kernel NULL pointer dereference", StringComparison.Ordinal) ? "null-deref"
                : msg.StartsWith("unable to handle", StringComparison.Ordinal) ? "page-fault"
                : msg.StartsWith("soft lockup", StringComparison.Ordinal) ? "soft-lockup"
                : msg.StartsWith("scheduling while atomic", StringComparison.Ordinal) ? "scheduling-while-atomic"
                : msg.StartsWith("sleeping function called from invalid context", StringComparison.Ordinal) ? "sleep-in-atomic"
                : "bug";
            var address = Try(AddressSuffix(), msg);
            return (kind, msg, null, address.Success ? Hex(address.Groups["a"].Value) : null);
        }

        var kernelBug = Try(KernelBugAt(), line);
        if (kernelBug.Success)
        {
            return ("bug", line.Trim(), kernelBug.Groups["loc"].Value, null);
        }

        var warning = Try(WarningLine(), line);
        if (warning.Success)
        {
            return ("warning", line.Trim(), warning.Groups["loc"].Value, null);
        }

        var gpf = Try(GeneralProtection(), line);
        if (gpf.Success)
        {
            var address = Try(NonCanonical(), line);
            return ("general-protection-fault", line.Trim(), null, address.Success ? Hex(address.Groups["a"].Value) : null);
        }

        var oops = Try(OopsLine(), line);
        if (oops.Success)
        {
            return ("oops", oops.Groups["msg"].Value.Trim(), null, null);
        }

        var trap = Try(TrapLine(), line);
        if (trap.Success)
        {
            return (trap.Groups["what"].Value.Replace(' ', '-'), line.Trim(), null, null);
        }

        if (line.StartsWith("INFO: task ", StringComparison.Ordinal) && line.Contains(" blocked for more than ", StringComparison.Ordinal))
        {
            return ("hung-task", line.Trim(), null, null);
        }

        return line.Contains("rcu_", StringComparison.Ordinal) && line.Contains("detected stalls", StringComparison.Ordinal)
            ? ("rcu-stall", line.Trim(), null, null)
            : null;
    }

    /// <summary>A line inside the open report; false when it is not one (the report is then over).</summary>
    private bool ReadCrashLine(string line)
    {
        var crash = _crash!;
        if (line.StartsWith("---[ end ", StringComparison.Ordinal))
        {
            _crash = null;
            _inTrace = false;
            return true;
        }

        if (line.StartsWith("Call Trace:", StringComparison.Ordinal))
        {
            _inTrace = true;
            return true;
        }

        var cpu = Try(CpuLine(), line);
        if (cpu.Success)
        {
            crash.SetOnce("cpu", cpu.Groups["cpu"].Value);
            crash.SetOnce("pid", cpu.Groups["pid"].Value);
            crash.SetOnce("comm", cpu.Groups["comm"].Value);
            return true;
        }

        var rip = Try(RipLine(), line);
        if (rip.Success)
        {
            string where = rip.Groups["where"].Value;
            if (crash["rip"] is null && crash["rip.sym"] is null)
            {
                if (where.StartsWith("0x", StringComparison.Ordinal)) crash.Set("rip", where);
                else crash.Set("rip.sym", where);
                crash.Set("mode", rip.Groups["cs"].Value == "0010" ? "kernel" : "user");
            }

            return true;
        }

        if (line.StartsWith("Code: ", StringComparison.Ordinal))
        {
            if (crash["code"] is null)
            {
                string bytes = line["Code: ".Length..].Trim();
                crash.Set("code", bytes);
                ulong at = crash["rip"] is { } r && ulong.TryParse(r.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v) ? v : 0;
                if (CodeBytes.DecodeFaulting(bytes, at) is { } insn) crash.Set("insn", insn);
            }

            return true;
        }

        var frame = Try(TraceFrame(), line);
        if (frame.Success && (_inTrace || frame.Groups["addr"].Success))
        {
            // "? name+0x../0x.." frames are stale stack words the unwinder could not vouch for: left out, like syzbot does.
            if (!frame.Groups["unreliable"].Success)
            {
                string symbol = frame.Groups["sym"].Value + (frame.Groups["mod"].Success ? $" [{frame.Groups["mod"].Value}]" : "");
                crash.Frame("bt", frame.Groups["addr"].Success ? Hex(frame.Groups["addr"].Value) : null, symbol);
            }

            return true;
        }

        if (Try(TraceTag(), line).Success)
        {
            _inTrace = true;
            return true;
        }

        var rsp = Try(RspLine(), line);
        if (rsp.Success)
        {
            crash.SetOnce("rsp", Hex(rsp.Groups["rsp"].Value));
            return true;
        }

        var cr2 = Try(Cr2Line(), line);
        if (cr2.Success)
        {
            crash.SetOnce("addr", Hex(cr2.Groups["cr2"].Value));
            return true;
        }

        if (line.StartsWith("Modules linked in:", StringComparison.Ordinal))
        {
            crash.SetOnce("modules", line["Modules linked in:".Length..].Trim());
            return true;
        }

        if (line.StartsWith("#PF: ", StringComparison.Ordinal))
        {
            crash.Append("pf", line[5..].Trim());
            return true;
        }

        // Register lines, page-table walk, hardware name, kernel offset: part of the report, nothing kept.
        if (Try(ReportDetail(), line).Success)
        {
            return true;
        }

        _crash = null;
        _inTrace = false;
        return false;
    }

    [GeneratedRegex(@"^\[\s*(?<s>\d{1,12})\.(?<frac>\d{1,9})\](\[\s*[TC]\d+\])? ?", Options, TimeoutMs)]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"^Run \S+ as init process", Options, TimeoutMs)]
    private static partial Regex RunInit();

    [GeneratedRegex(@"^Kernel panic - not syncing: ?(?<msg>.*)$", Options, TimeoutMs)]
    private static partial Regex PanicLine();

    [GeneratedRegex(@"^BUG: (?<msg>.*)$", Options, TimeoutMs)]
    private static partial Regex BugLine();

    [GeneratedRegex(@"^KASAN: (?<what>[A-Za-z-]+)", Options, TimeoutMs)]
    private static partial Regex Kasan();

    [GeneratedRegex(@"address: (0x)?(?<a>[0-9a-fA-F]{1,16})\b", Options, TimeoutMs)]
    private static partial Regex AddressSuffix();

    [GeneratedRegex(@"^kernel BUG at (?<loc>[^!]+)!", Options, TimeoutMs)]
    private static partial Regex KernelBugAt();

    [GeneratedRegex(@"^WARNING: CPU: \d+ PID: \d+ at (?<loc>\S+)", Options, TimeoutMs)]
    private static partial Regex WarningLine();

    [GeneratedRegex(@"^(Oops: )?general protection fault", Options, TimeoutMs)]
    private static partial Regex GeneralProtection();

    [GeneratedRegex(@"non-canonical address (0x)?(?<a>[0-9a-fA-F]{1,16})", Options, TimeoutMs)]
    private static partial Regex NonCanonical();

    [GeneratedRegex(@"^Oops: (?<msg>.*)$", Options, TimeoutMs)]
    private static partial Regex OopsLine();

    [GeneratedRegex(@"^(?<what>divide error|invalid opcode|double fault|stack segment|alignment check): ", Options, TimeoutMs)]
    private static partial Regex TrapLine();

    [GeneratedRegex(@"^CPU: (?<cpu>\d+) (UID: \d+ )?PID: (?<pid>\d+) Comm: (?<comm>\S+)", Options, TimeoutMs)]
    private static partial Regex CpuLine();

    [GeneratedRegex(@"^RIP: (?<cs>[0-9a-f]{4}):(\[<[0-9a-f]+>\] )?(?<where>\S+( \[[\w-]+\])?)", Options, TimeoutMs)]
    private static partial Regex RipLine();

    [GeneratedRegex(@"^\s*(\[<(?<addr>[0-9a-f]{1,16})>\] )?(?<unreliable>\? )?(?<sym>[A-Za-z_.$][\w.$]*\+0x[0-9a-f]+/0x[0-9a-f]+)( \[(?<mod>[\w-]+)\])?\s*$", Options, TimeoutMs)]
    private static partial Regex TraceFrame();

    [GeneratedRegex(@"^\s*</?(TASK|IRQ|NMI|SOFTIRQ|#DF|EOI)>\s*$", Options, TimeoutMs)]
    private static partial Regex TraceTag();

    [GeneratedRegex(@"^RSP: [0-9a-f]{4}:(?<rsp>[0-9a-f]{1,16})", Options, TimeoutMs)]
    private static partial Regex RspLine();

    [GeneratedRegex(@"^CR2: (?<cr2>[0-9a-f]{1,16})\s*$", Options, TimeoutMs)]
    private static partial Regex Cr2Line();

    [GeneratedRegex(@"^(R[A-Z0-9]{1,2}: |FS: |CS: |CR2: |DR[0-7]: |PKRU: |PGD |P4D |PUD |PMD |PTE |Hardware name: |Kernel Offset: |Code: |Tainted: |irq event stamp|hardirqs |softirqs |Dumping ftrace buffer|Shutting down cpus|Rebooting in |Allocated by task |Freed by task |The buggy address |Memory state around |Read of size |Write of size |Free of addr |\s*[0-9a-f]{16}: |\s*>?[0-9a-f]{16}: )", Options, TimeoutMs)]
    private static partial Regex ReportDetail();
}
