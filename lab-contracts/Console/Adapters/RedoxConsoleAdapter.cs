using System.Globalization;
using System.Text.RegularExpressions;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Contracts.Console.Adapters;

/// <summary>
/// The real Redox kernel's console (ADAPTERS.md, "redox"): <c>module:LEVEL -- message</c> log lines,
/// boot milestones, the three generations of its panic format, exception headers with register
/// dumps, both stack-walk formats (<c>FP …: PC …</c> and <c>TRACE:</c> with <c>bp: ip</c> frames),
/// CPU/PID/NAME lines, and <c>HALT</c> as the end.
/// </summary>
public sealed partial class RedoxConsoleAdapter : ConsoleAdapter
{
    /// <summary>The lines of a multi-line panic message kept at most.</summary>
    private const int MaxMessageLines = 8;

    private FindingBuilder? _crash;
    private string _trace = "bt";
    private bool _inTrace;
    private bool _afterFrame;
    private int _messageLines = -1; // >= 0 while the lines after "panicked at …:" are the message
    private bool _exceptionFlags;   // the lines after "Page fault: …" until the register dump: its {:#?} flags

    public override string Name => "redox";

    public override IEnumerable<MetricReport> Metrics() =>
    [
        new MetricReport("console.warnings", Warnings, "lines", 1, "count"),
        new MetricReport("console.errors", Errors, "lines", 1, "count"),
    ];

    public override AdapterLine Accept(string text, long lineIndex)
    {
        string line = Ansi().Replace(text, "").TrimEnd();
        // A panic message's lines are the message whatever they say; otherwise a new header wins over
        // the open report (a panic completes an exception's report, a second fault starts its own).
        bool inMessage = _crash is not null && _messageLines >= 0;
        if ((inMessage && ReadCrashLine(line, lineIndex)) || StartCrash(line, lineIndex)
            || (!inMessage && _crash is not null && ReadCrashLine(line, lineIndex)))
        {
            return new AdapterLine(null, null, Claimed: true);
        }

        string message = line;
        var log = Try(LogLine(), line);
        if (log.Success)
        {
            message = log.Groups["msg"].Value;
            if (log.Groups["level"].Value == "WARN")
            {
                Warnings++;
            }
            else if (log.Groups["level"].Value == "ERROR")
            {
                Errors++;
            }
        }

        return new AdapterLine(null, Milestone(message), Claimed: false);
    }

    private static string? Milestone(string message)
    {
        if (message.Contains("Redox OS starting", StringComparison.Ordinal)) return "start";
        if (message.Contains("Initial freelist consistent", StringComparison.Ordinal)) return "freelist";
        if (message.StartsWith("BSP: ", StringComparison.Ordinal)) return "bsp";
        if (Try(ApLine(), message).Success) return "ap";
        if (message.StartsWith("Bootstrap entry point: ", StringComparison.Ordinal)) return "bootstrap";
        return null;
    }

    /// <summary>A line that opens a crash report: a panic of any generation or an exception header.</summary>
    private bool StartCrash(string line, long lineIndex)
    {
        if (line.StartsWith("KERNEL PANIC: ", StringComparison.Ordinal))
        {
            OnPanic(line["KERNEL PANIC: ".Length..], lineIndex);
            return true;
        }

        if (line.StartsWith("PANIC: ", StringComparison.Ordinal))
        {
            OnPanic(line["PANIC: ".Length..], lineIndex);
            return true;
        }

        if (Exception(line) is { } exception)
        {
            _crash = Open(exception.Kind, lineIndex);
            _crash.Set("exception", line);
            foreach (var (key, value) in exception.Fields)
            {
                _crash.Set(key, value);
            }

            _trace = "bt";
            _inTrace = false;
            _messageLines = -1;
            _exceptionFlags = exception.Kind == "page-fault";
            return true;
        }

        return false;
    }

    private void OnPanic(string rest, long lineIndex)
    {
        // A fault in kernel mode ends in a panic: the panic completes the exception's finding, and its
        // own stack walk is the second backtrace (bt.panic).
        bool attach = _crash is not null && Panic is null && _crash["msg"] is null && _crash.Kind != "panic";
        if (!attach)
        {
            _crash = Open("panic", lineIndex);
            _trace = "bt";
        }
        else
        {
            _trace = "bt.panic";
        }

        var crash = _crash!;
        Panic ??= crash;
        _inTrace = false;
        _exceptionFlags = false;
        _messageLines = -1;

        var current = Try(PanickedAtColon(), rest);
        if (current.Success)
        {
            // Rust 1.73 and later: "panicked at file:line:col:" and the message on the lines after.
            crash.Set("file", current.Groups["loc"].Value);
            _messageLines = 0;
            return;
        }

        var quoted = Try(PanickedAtQuoted(), rest);
        if (quoted.Success)
        {
            crash.Set("msg", quoted.Groups["msg"].Value);
            crash.Set("file", quoted.Groups["loc"].Value);
            return;
        }

        crash.Set("msg", rest.Trim());
    }

    /// <summary>A line inside the open crash report; false when it is not one (the report is then over).</summary>
    private bool ReadCrashLine(string line, long lineIndex)
    {
        var crash = _crash!;
        if (line == "HALT")
        {
            End ??= new EndLine(Panic is null ? Outcome.TestFailed : Outcome.KernelPanic, line, lineIndex);
            _crash = null;
            return true;
        }

        if (_messageLines >= 0)
        {
            if (IsTraceStart(line) || Try(CpuLine(), line).Success || line.Length == 0 && _messageLines > 0)
            {
                _messageLines = -1;
            }
            else
            {
                if (_messageLines < MaxMessageLines)
                {
                    crash.Append("msg", line.Trim());
                }

                _messageLines++;
                return true;
            }
        }

        var frame = Try(FpFrame(), line);
        if (!frame.Success && (_inTrace || line.StartsWith(' ')))
        {
            frame = Try(BpFrame(), line);
        }

        if (frame.Success)
        {
            _inTrace = true;
            _exceptionFlags = false;
            crash.Frame(_trace, Hex(frame.Groups["pc"].Value), null);
            _afterFrame = true;
            return true;
        }

        var trace = Try(TraceLine(), line);
        if (trace.Success)
        {
            _inTrace = true;
            _exceptionFlags = false;
            if (crash.Frames(_trace) > 0)
            {
                _trace = "bt.panic";
            }

            crash.SetOnce(_trace == "bt" ? "rbp" : "rbp.panic", Hex(trace.Groups["rbp"].Value));
            return true;
        }

        var end = Try(WalkEnd(), line);
        if (end.Success)
        {
            crash.Set(_trace + ".end", end.Groups["what"].Value);
            _afterFrame = false;
            if (_trace == "bt")
            {
                _trace = "bt.panic";
            }

            _inTrace = false;
            return true;
        }

        if (_inTrace && _afterFrame && line.StartsWith(' '))
        {
            // "    FFFFFFFF80012300+0045" then "    kernel::…::symbol": the kernel's own symbolization of the frame.
            var symAddr = Try(SymbolAddress(), line);
            if (!symAddr.Success)
            {
                crash.SymbolOfLastFrame(_trace, line.Trim());
            }

            return true;
        }

        var register = Try(Register(), line);
        if (register.Success)
        {
            _exceptionFlags = false;
            string reg = register.Groups["reg"].Value.ToLowerInvariant();
            crash.SetOnce(reg == "rflag" ? "rflags" : reg, Hex(register.Groups["v"].Value));
            return true;
        }

        var cpu = Try(CpuLine(), line);
        if (cpu.Success)
        {
            _inTrace = false;
            crash.SetOnce("cpu", cpu.Groups["cpu"].Value);
            if (cpu.Groups["pid"].Success) crash.SetOnce("pid", cpu.Groups["pid"].Value);
            if (cpu.Groups["cid"].Success) crash.SetOnce("cid", cpu.Groups["cid"].Value);
            return true;
        }

        var name = Try(NameLine(), line);
        if (name.Success)
        {
            crash.SetOnce("name", name.Groups["name"].Value);
            if (name.Groups["id"].Success) crash.SetOnce("debug-id", name.Groups["id"].Value);
            return true;
        }

        if (line.StartsWith("SYSCALL: ", StringComparison.Ordinal))
        {
            crash.SetOnce("syscall", line["SYSCALL: ".Length..]);
            return true;
        }

        if (line.StartsWith("FILE: ", StringComparison.Ordinal))
        {
            crash.SetOnce("file", line["FILE: ".Length..].Trim());
            return true;
        }

        if (line.StartsWith("LINE: ", StringComparison.Ordinal))
        {
            if (crash["file"] is { } file && !file.Contains(':', StringComparison.Ordinal))
            {
                crash.Set("file", file + ":" + line["LINE: ".Length..].Trim());
            }

            return true;
        }

        if (_exceptionFlags)
        {
            // Rust's {:#?} of the fault's flags: "PageFaultError(", "    PRESENT | WRITE,", ")".
            crash.Append("flags", line.Trim());
            return true;
        }

        // Anything else ends the report: the kernel went on (a user-mode fault) or printed something else.
        _crash = null;
        _inTrace = false;
        return false;
    }

    private static bool IsTraceStart(string line) =>
        line.StartsWith("TRACE: ", StringComparison.Ordinal) || Try(FpFrame(), line).Success;

    private static (string Kind, (string, string)[] Fields)? Exception(string line)
    {
        var pf = Try(PageFault(), line);
        if (pf.Success)
        {
            var fields = new List<(string, string)> { ("addr", Hex(pf.Groups["cr2"].Value)) };
            if (pf.Groups["flags"].Value.Trim() is { Length: > 0 } flags) fields.Add(("flags", flags));
            return ("page-fault", fields.ToArray());
        }

        var gp = Try(ProtectionFault(), line);
        if (gp.Success)
        {
            return ("protection-fault", [("err", gp.Groups["code"].Value)]);
        }

        foreach (var (header, kind) in Headers)
        {
            if (line.StartsWith(header, StringComparison.Ordinal))
            {
                return (kind, []);
            }
        }

        return null;
    }

    // The exception headers of src/arch/x86_64/interrupt/exception.rs, and their finding kinds.
    private static readonly (string Header, string Kind)[] Headers =
    [
        ("Divide by zero", "divide-by-zero"),
        ("Debug trap", "debug-trap"),
        ("Non-maskable interrupt", "nmi"),
        ("Breakpoint trap", "breakpoint"),
        ("Overflow trap", "overflow"),
        ("Bound range exceeded fault", "bound-range"),
        ("Invalid opcode fault", "invalid-opcode"),
        ("Device not available fault", "device-not-available"),
        ("Double fault", "double-fault"),
        ("Invalid TSS fault", "invalid-tss"),
        ("Segment not present fault", "segment-not-present"),
        ("Stack segment fault", "stack-segment-fault"),
        ("x87 floating point fault", "fpu-fault"),
        ("Alignment check fault", "alignment-check"),
        ("Machine check fault", "machine-check"),
        ("SIMD floating point fault", "simd-fault"),
        ("Virtualization fault", "virtualization-fault"),
        ("Security exception", "security-exception"),
    ];

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]", Options, TimeoutMs)]
    private static partial Regex Ansi();

    [GeneratedRegex(@"^(?<module>[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z0-9_]+)*):(?<level>TRACE|DEBUG|INFO|WARN|ERROR) -- (?<msg>.*)$", Options, TimeoutMs)]
    private static partial Regex LogLine();

    [GeneratedRegex(@"^AP \d+: ", Options, TimeoutMs)]
    private static partial Regex ApLine();

    [GeneratedRegex(@"^panicked at (?<loc>\S+:\d+:\d+):\s*$", Options, TimeoutMs)]
    private static partial Regex PanickedAtColon();

    [GeneratedRegex(@"^panicked at '(?<msg>.*)', (?<loc>\S+:\d+:\d+)\s*$", Options, TimeoutMs)]
    private static partial Regex PanickedAtQuoted();

    [GeneratedRegex(@"^\s*FP (?<fp>(0x)?[0-9a-fA-F]{1,16}): PC (?<pc>(0x)?[0-9a-fA-F]{1,16})\s*$", Options, TimeoutMs)]
    private static partial Regex FpFrame();

    [GeneratedRegex(@"^\s*(?<bp>(0x)?[0-9a-fA-F]{1,16}): (?<pc>(0x)?[0-9a-fA-F]{1,16})\s*$", Options, TimeoutMs)]
    private static partial Regex BpFrame();

    [GeneratedRegex(@"^TRACE: (?<rbp>(0x)?[0-9a-fA-F]{1,16})\s*$", Options, TimeoutMs)]
    private static partial Regex TraceLine();

    [GeneratedRegex(@"^\s*(FP )?(0x)?[0-9a-fA-F]{1,16}: (?<what>GUARD PAGE|EMPTY RETURN)\s*$", Options, TimeoutMs)]
    private static partial Regex WalkEnd();

    [GeneratedRegex(@"^\s+(0x)?[0-9a-fA-F]{1,16}\+(0x)?[0-9a-fA-F]+\s*$", Options, TimeoutMs)]
    private static partial Regex SymbolAddress();

    [GeneratedRegex(@"^\s*(?<reg>RFLAG|RFLAGS|CS|RIP|RSP|SS|FSBASE|GSBASE|KGSBASE|RAX|RBX|RCX|RDX|RDI|RSI|RBP|R8|R9|R10|R11|R12|R13|R14|R15|CR2|CR3|ERR|FS|GS|DS|ES):?\s+(?<v>(0x)?[0-9a-fA-F]{1,16})\s*$", Options, TimeoutMs)]
    private static partial Regex Register();

    [GeneratedRegex(@"^CPU (?<cpu>\d+)(, (CID (?<cid>\S+)|PID (?<pid>\S+)))?\s*$", Options, TimeoutMs)]
    private static partial Regex CpuLine();

    [GeneratedRegex(@"^NAME: (?<name>.*?)(, DEBUG ID: (?<id>\S+))?\s*$", Options, TimeoutMs)]
    private static partial Regex NameLine();

    [GeneratedRegex(@"^Page fault: (?<cr2>(0x)?[0-9a-fA-F]{1,16})\b(?<flags>.*)$", Options, TimeoutMs)]
    private static partial Regex PageFault();

    [GeneratedRegex(@"^Protection fault( code=(?<code>\S+))?", Options, TimeoutMs)]
    private static partial Regex ProtectionFault();
}
