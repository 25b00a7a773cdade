using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Profiles;

/// <summary>A profile as folded stacks.</summary>
/// <param name="Text">One line per unique stack, <c>comm;root;...;leaf count</c>, sorted by the stack's UTF-8 bytes, each line ending in <c>\n</c>.</param>
/// <param name="Samples">Samples folded (filtered ones not counted).</param>
public sealed record FoldedProfile(string Text, int Samples)
{
    /// <summary>The sum of the counts: samples, or their periods when the headers carry them.</summary>
    public long Total { get; init; }

    /// <summary>The event type kept (the filter given, or the first one seen); null when no header named one.</summary>
    public string? Event { get; init; }

    /// <summary>Samples of other event types left out.</summary>
    public long FilteredSamples { get; init; }

    /// <summary>Lines that are neither a header, a frame, a comment nor blank (perf warnings, damage): ignored.</summary>
    public long UnrecognizedLines { get; init; }

    /// <summary>Distinct stacks.</summary>
    public int Stacks { get; init; }
}

/// <summary>How <see cref="PerfScriptFolder"/> names frames: <c>stackcollapse-perf.pl</c>'s options, plus the lab's.</summary>
public sealed record PerfFoldOptions
{
    public static readonly PerfFoldOptions Default = new();

    /// <summary><c>--pid</c>: the root frame is <c>comm-pid</c> (<c>comm-?</c> when the header has only a TID).</summary>
    public bool IncludePid { get; init; }

    /// <summary><c>--tid</c>: the root frame is <c>comm-pid/tid</c>.</summary>
    public bool IncludeTid { get; init; }

    /// <summary><c>--addrs</c>: an unknown frame is <c>[dso &lt;pc&gt;]</c> instead of <c>[dso]</c>.</summary>
    public bool IncludeAddresses { get; init; }

    /// <summary><c>--kernel</c>: <c>_[k]</c> after frames of a kernel DSO (<c>[...]</c> or <c>...vmlinux</c>).</summary>
    public bool AnnotateKernel { get; init; }

    /// <summary><c>--jit</c>: <c>_[j]</c> after frames of a <c>/tmp/perf-PID.map</c>.</summary>
    public bool AnnotateJit { get; init; }

    /// <summary><c>--event-filter</c>: keep only samples of this event; null keeps the first event type seen.</summary>
    public string? EventFilter { get; init; }

    /// <summary>The lab's: keep samples of every event type (the Perl script has no such option).</summary>
    public bool AllEvents { get; init; }

    /// <summary>
    /// Cut a name at its first <c>(</c> as the Perl script does (not Go methods nor <c>(anonymous namespace)</c>).
    /// Off by default: the lab keeps C++ signatures intact, so overloads stay apart and
    /// <c>std::function&lt;void ()&gt;</c> is not cut to <c>std::function&lt;void </c>.
    /// </summary>
    public bool TrimSignatures { get; init; }

    /// <summary>The lab's: which DSOs hold userspace code; their frames get <c>_[u]</c> (the reference kernel's user frames).</summary>
    public Func<string, bool>? IsUserDso { get; init; }

    /// <summary>The Perl script's default output, byte for byte, where it has one (see PERF-SCRIPT.md).</summary>
    public static PerfFoldOptions PerlCompatible { get; } = new() { TrimSignatures = true };
}

/// <summary>Names an address of a DSO (the reference kernel's <c>kernel.elf</c>, <c>bootstrap.elf</c>); null: not known.</summary>
public delegate string? FrameResolver(ulong address, string dso);

/// <summary>
/// Folds <c>perf script</c> text into flamegraph input as <c>stackcollapse-perf.pl</c> does, streaming over
/// UTF-8 bytes: per sample the header's command name is the root, then the frames outermost first, and
/// identical stacks are summed (by the header's period when it has one, else 1). Memory holds only the
/// distinct frame names, stacks and a bounded cache of frame lines, never the input.
/// The rules, the options and every deliberate difference from the Perl script are in <c>PERF-SCRIPT.md</c>.
/// </summary>
public sealed class PerfScriptFolder
{
    /// <summary>A longer line is cut here (the rest up to its newline is skipped).</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>Frame keys whose names are cached; beyond this, frames are named every time (memory stays bounded).</summary>
    private const int MaxCachedFrames = 1 << 18;

    private const int ReadChunk = 1 << 20;

    private static readonly System.Buffers.SearchValues<byte> Spaces = System.Buffers.SearchValues.Create(" \t\n\v\f\r"u8);

    private readonly PerfFoldOptions _options;
    private readonly FrameResolver? _resolve;
    private readonly SequenceTable<byte> _names = new();
    // Frame key (what a frame's names depend on: FrameKey) -> the frame ids of its line.
    private readonly SequenceTable<byte> _frameCache = new();
    private readonly List<int[]> _cachedFrames = [];
    private byte[] _keyBuffer = new byte[256];
    private readonly SequenceTable<int> _stacks = new();
    private long[] _weights = new long[256];

    // The sample being read: frame groups innermost first (a group is one line's frames, inline chain in order).
    private int[] _frames = new int[256];
    private int _frameCount;
    private int[] _groupStarts = new int[64];
    private int _groupCount;
    private int[] _key = new int[256];
    private int _pname = -1;          // name id of the root frame; -1: none (Perl's undef)
    private bool _pnameIsJava;
    private long _period = 1;
    private string? _event;
    private byte[]? _eventBytes;
    private byte[] _root = new byte[64];
    private long _samples, _total, _filtered, _unrecognized;

    public PerfScriptFolder(PerfFoldOptions? options = null, FrameResolver? resolve = null)
    {
        _options = options ?? PerfFoldOptions.Default;
        _event = _options.EventFilter is { Length: > 0 } e ? e : null;
        _eventBytes = _event is null ? null : Encoding.UTF8.GetBytes(_event);
        _resolve = resolve;
    }

    /// <summary>Bytes the folder's tables hold now.</summary>
    public long Footprint => _names.Footprint + _frameCache.Footprint + _stacks.Footprint + _weights.Length * 8L;

    /// <summary>Folds a whole stream (UTF-8; a BOM is skipped).</summary>
    public static FoldedProfile Fold(Stream input, PerfFoldOptions? options = null, FrameResolver? resolve = null)
    {
        var folder = new PerfScriptFolder(options, resolve);
        folder.Read(input);
        return folder.Finish();
    }

    public static FoldedProfile Fold(string perfScript, PerfFoldOptions? options = null, FrameResolver? resolve = null)
    {
        ArgumentNullException.ThrowIfNull(perfScript);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(perfScript), writable: false);
        return Fold(stream, options, resolve);
    }

    /// <summary>Folds with names from <paramref name="functionAt"/> for every DSO (null: Perl's names only).</summary>
    public static FoldedProfile Fold(string perfScript, Func<ulong, string?>? functionAt, PerfFoldOptions? options = null) =>
        Fold(perfScript, options, functionAt is null ? null : (a, _) => functionAt(a));

    /// <summary>Folds with function names from <paramref name="symbols"/> when given.</summary>
    public static FoldedProfile Fold(string perfScript, Symbolizer? symbols, PerfFoldOptions? options = null) =>
        Fold(perfScript, symbols is null ? null : a => symbols.Lookup(a)?.Name, options);

    /// <summary>Feeds every line of <paramref name="input"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Read(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunk * 2);
        try
        {
            int start = 0, end = 0;
            bool first = true, skipping = false;
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                    else if (buffer.Length < MaxLineBytes * 2)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, end).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    else
                    {
                        // A line longer than the limit: fold what we have of it and skip the rest.
                        if (!skipping) Line(buffer.AsSpan(0, MaxLineBytes));
                        skipping = true;
                        start = end = 0;
                    }
                }
                var read = input.Read(buffer, end, buffer.Length - end);
                if (read == 0) break;
                end += read;
                if (first && end >= 3)
                {
                    if (buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
                    first = false;
                }
                while (true)
                {
                    var nl = HotSpans.IndexOf(buffer.AsSpan(start, end - start), (byte)'\n');
                    if (nl < 0) break;
                    if (skipping) skipping = false;
                    else Line(buffer.AsSpan(start, Math.Min(nl, MaxLineBytes)));
                    start += nl + 1;
                }
                if (start == end) start = end = 0;
            }
            if (end > start && !skipping) Line(buffer.AsSpan(start, Math.Min(end - start, MaxLineBytes)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One line without its <c>\n</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Line(ReadOnlySpan<byte> line)
    {
        // Deliberate: CRLF input folds like LF input (the Perl script keeps the \r, so no line of it is blank).
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (line.Length == 0)
        {
            EndSample();
            return;
        }
        if (line[0] == (byte)'#') return;

        if (!IsSpace(line[0]))
        {
            if (MatchHeader(line, out var comm, out var pid, out var tid))
            {
                // Deliberate: a header that carries its sample's one frame (perf script without call graphs) is a
                // whole sample; the Perl script folds such files into nothing.
                if (SingleLineFrame(line, comm.End.Value) is { } frameAt) SingleLineSample(line, comm, pid, tid, frameAt);
                else Header(line, line[comm], line[pid], line[tid]);
                return;
            }
        }
        else
        {
            var skip = 1;
            while (skip < line.Length && IsSpace(line[skip])) skip++;
            var trimmed = line[skip..];
            // The common case: a frame whose names are known from an earlier line with the same symbol and DSO
            // (return addresses and offsets differ, the names do not). Such a line is never a padded header: that
            // one's "symbol" would hold its time and event, and the first line with it was read as a header.
            if (_pname >= 0 && !_pnameIsJava && MatchFrame(trimmed, out var kpc, out var kfunc, out var kdso)
                && FrameKey(trimmed[kpc], trimmed[kfunc], trimmed[kdso], out var second) is var first
                && _frameCache.Find(first, 0, second) is var cached and >= 0)
            {
                AddGroup(_cachedFrames[cached]);
                return;
            }
            // perf pads short command names with spaces when it prints no call graphs.
            if (MatchHeader(trimmed, out var comm, out var pid, out var tid) && SingleLineFrame(trimmed, comm.End.Value) is { } frameAt)
            {
                SingleLineSample(trimmed, comm, pid, tid, frameAt);
                return;
            }
        }

        if (_pname >= 0 && Frame(line)) return;
        if (_pname < 0 && MatchFrame(line, out _, out _, out _)) return; // a frame of a filtered sample
        _unrecognized++;
    }

    private void SingleLineSample(ReadOnlySpan<byte> line, Range comm, Range pid, Range tid, int frameAt)
    {
        EndSample();
        if (Header(line[..frameAt], line[comm], line[pid], line[tid]) && _pname >= 0) Frame(line[frameAt..]);
        EndSample();
    }

    /// <summary>The folded stacks of every line fed so far; a sample without a closing blank line counts too.</summary>
    public FoldedProfile Finish()
    {
        using var text = new MemoryStream();
        var result = Finish(text);
        return result with { Text = Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length) };
    }

    /// <summary>
    /// Writes the folded stacks to <paramref name="output"/> (UTF-8) as they are sorted, without building the text
    /// in memory; the result's <see cref="FoldedProfile.Text"/> is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public FoldedProfile Finish(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        // Deliberate: the last sample of a file without a trailing blank line is kept (the Perl script drops it).
        EndSample();

        var count = _stacks.Count;
        var order = new int[count];
        for (var i = 0; i < count; i++) order[i] = i;
        Array.Sort(order, CompareStacks);

        var buffer = new byte[1 << 16];
        var used = 0;
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Write(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                if (used == buffer.Length)
                {
                    output.Write(buffer, 0, used);
                    used = 0;
                }
                var n = Math.Min(bytes.Length, buffer.Length - used);
                bytes[..n].CopyTo(buffer.AsSpan(used));
                used += n;
                bytes = bytes[n..];
            }
        }
        Span<byte> number = stackalloc byte[24];
        foreach (var s in order)
        {
            var frames = _stacks[s];
            for (var i = 0; i < frames.Length; i++)
            {
                if (i > 0) Write(";"u8);
                Write(_names[frames[i]]);
            }
            number[0] = (byte)' ';
            _weights[s].TryFormat(number[1..], out var digits, default, CultureInfo.InvariantCulture);
            number[digits + 1] = (byte)'\n';
            Write(number[..(digits + 2)]);
        }
        output.Write(buffer, 0, used);
        return new FoldedProfile("", (int)Math.Min(_samples, int.MaxValue))
        {
            Total = _total,
            Event = _event,
            FilteredSamples = _filtered,
            UnrecognizedLines = _unrecognized,
            Stacks = count,
        };
    }

    /// <summary>
    /// Orders stacks as the Perl script's <c>sort</c> orders the joined keys (<c>a;b;c</c>) by their bytes, frame by
    /// frame without joining: when one frame is a prefix of the other, the shorter one continues with ';' (or ends).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int CompareStacks(int a, int b)
    {
        var x = _stacks[a];
        var y = _stacks[b];
        for (var i = 0; ; i++)
        {
            if (i == x.Length || i == y.Length) return x.Length.CompareTo(y.Length);
            var fx = _names[x[i]];
            var fy = _names[y[i]];
            var common = Math.Min(fx.Length, fy.Length);
            var c = fx[..common].SequenceCompareTo(fy[..common]);
            if (c != 0) return c;
            if (fx.Length == fy.Length) continue;
            // The shorter frame's next byte in the joined key: ';' when more frames follow, else the key ends.
            if (fx.Length < fy.Length) return i + 1 < x.Length ? ((byte)';').CompareTo(fy[common]) : -1;
            return i + 1 < y.Length ? fx[common].CompareTo((byte)';') : 1;
        }
    }

    // ---- samples -------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EndSample()
    {
        if (_pname >= 0 && !IsFalsy(_names[_pname]))
        {
            if (_key.Length < _frameCount + 1) _key = new int[Math.Max(_frameCount + 1, _key.Length * 2)];
            _key[0] = _pname;
            var n = 1;
            for (var g = _groupCount - 1; g >= 0; g--)
            {
                var end = g + 1 < _groupCount ? _groupStarts[g + 1] : _frameCount;
                var start = _groupStarts[g];
                for (var f = start; f < end; f++) _key[n++] = _frames[f];
            }
            var id = _stacks.GetOrAdd(_key.AsSpan(0, n));
            if (id == _weights.Length) Array.Resize(ref _weights, id * 2);
            _weights[id] += _period;
            _samples++;
            _total += _period;
        }
        _frameCount = 0;
        _groupCount = 0;
        _pname = -1;
        _pnameIsJava = false;
    }

    // Perl's truth: "" and "0" are false.
    private static bool IsFalsy(ReadOnlySpan<byte> s) => s.IsEmpty || (s.Length == 1 && s[0] == (byte)'0');

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddGroup(int[] group)
    {
        if (group.Length == 0) return;
        if (_groupCount == _groupStarts.Length) Array.Resize(ref _groupStarts, _groupCount * 2);
        if (_frameCount + group.Length > _frames.Length) Array.Resize(ref _frames, Math.Max(_frames.Length * 2, _frameCount + group.Length));
        _groupStarts[_groupCount++] = _frameCount;
        // Element by element: a group is one frame but for inline chains, too short for a memmove call.
        for (var i = 0; i < group.Length; i++) _frames[_frameCount + i] = group[i];
        _frameCount += group.Length;
    }

    /// <summary>A header: the root frame, the period, the event filter. False when the sample is filtered out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Header(ReadOnlySpan<byte> line, ReadOnlySpan<byte> comm, ReadOnlySpan<byte> pid, ReadOnlySpan<byte> tid)
    {
        if (tid.IsEmpty || (tid.Length == 1 && tid[0] == (byte)'0'))
        {
            tid = pid;
            pid = "?"u8;
        }
        var period = 1L;
        if (MatchEvent(line, out var periodText, out var eventText))
        {
            if (_eventBytes is null)
            {
                _eventBytes = eventText.ToArray();
                _event = Encoding.UTF8.GetString(eventText);
            }
            else if (!_options.AllEvents && !eventText.SequenceEqual(_eventBytes))
            {
                // Like the Perl script: the sample's frames are dropped, and the root stays what it was (none after a blank line).
                _filtered++;
                return false;
            }
            if (!periodText.IsEmpty && long.TryParse(periodText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p != 0)
                period = p;
        }
        _period = period;

        var length = comm.Length + (_options.IncludeTid ? pid.Length + tid.Length + 2 : _options.IncludePid ? pid.Length + 1 : 0);
        if (_root.Length < length) _root = new byte[Math.Max(length, _root.Length * 2)];
        var root = _root.AsSpan(0, length);
        comm.CopyTo(root);
        var at = comm.Length;
        if (_options.IncludeTid || _options.IncludePid)
        {
            root[at++] = (byte)'-';
            pid.CopyTo(root[at..]);
            at += pid.Length;
            if (_options.IncludeTid)
            {
                root[at++] = (byte)'/';
                tid.CopyTo(root[at..]);
            }
        }
        root.Replace((byte)' ', (byte)'_');
        _pname = _names.GetOrAdd(root);
        _pnameIsJava = root.SequenceEqual("java"u8);
        return true;
    }

    /// <summary>A frame line of the current sample; false when it is not one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Frame(ReadOnlySpan<byte> line)
    {
        if (!MatchFrame(line, out var pc, out var func, out var dso)) return false;
        var group = Names(line[pc], line[func], line[dso]);
        AddGroup(group);
        if (!_pnameIsJava && _cachedFrames.Count < MaxCachedFrames)
        {
            var before = _frameCache.Count;
            var first = FrameKey(line[pc], line[func], line[dso], out var second);
            var id = _frameCache.GetOrAdd(first, 0, second);
            if (id == before) _cachedFrames.Add(group);
        }
        return true;
    }

    /// <summary>
    /// What a frame's names depend on (see <see cref="Names"/>), as the two parts of its cache key (joined by a NUL,
    /// which perf text does not hold): the symbol without its <c>+0x</c> offset, and the DSO, with the address
    /// after another NUL when the symbol holds <c>[unknown]</c> and an address can change its name (a resolver, or
    /// <c>IncludeAddresses</c>; that second part is built in a reused buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<byte> FrameKey(ReadOnlySpan<byte> pc, ReadOnlySpan<byte> func, ReadOnlySpan<byte> dso, out ReadOnlySpan<byte> second)
    {
        func = WithoutOffset(func);
        second = dso;
        if ((_resolve is not null || _options.IncludeAddresses) && func.IndexOf("[unknown]"u8) >= 0)
        {
            var length = dso.Length + 1 + pc.Length;
            if (_keyBuffer.Length < length) _keyBuffer = new byte[Math.Max(length, _keyBuffer.Length * 2)];
            dso.CopyTo(_keyBuffer);
            _keyBuffer[dso.Length] = 0;
            pc.CopyTo(_keyBuffer.AsSpan(dso.Length + 1));
            second = _keyBuffer.AsSpan(0, length);
        }
        return func;
    }

    /// <summary>
    /// <paramref name="func"/> without a trailing <c>+0x&lt;lower-case hex&gt;</c> (the Perl script's
    /// <c>s/\+0x[\da-f]+$//</c>), found from the right: the hex run at the end, then <c>+0x</c> before it. The same cut
    /// as taking the last <c>+0x</c> and checking that only hex digits follow: the <c>x</c> of a later <c>+0x</c>
    /// would end the hex run.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ReadOnlySpan<byte> WithoutOffset(ReadOnlySpan<byte> func)
    {
        var j = func.Length;
        while (j > 0 && IsLowerHex(func[j - 1])) j--;
        return j < func.Length && j >= 3 && func[j - 3] == (byte)'+' && func[j - 2] == (byte)'0' && func[j - 1] == (byte)'x'
            ? func[..(j - 3)]
            : func;
    }

    private int[] Names(ReadOnlySpan<byte> pcBytes, ReadOnlySpan<byte> funcBytes, ReadOnlySpan<byte> dsoBytes)
    {
        // Symbol offsets (Linux 4.8 on): "cpu_startup_entry+0x3f" -> "cpu_startup_entry".
        var raw = Encoding.UTF8.GetString(WithoutOffset(funcBytes));
        var dso = Encoding.UTF8.GetString(dsoBytes);
        var pc = Encoding.UTF8.GetString(pcBytes);
        if (raw.StartsWith('(')) return [];

        var parts = raw.Split("->");
        var n = parts.Length;
        while (n > 0 && parts[n - 1].Length == 0) n--; // Perl's split drops trailing empty fields
        var group = new int[n];
        for (var i = 0; i < n; i++)
        {
            var func = parts[i];
            if (func == "[unknown]" && _resolve is not null && ParseHex(pc) is { } address && _resolve(address, dso) is { Length: > 0 } known)
            {
                // The lab's: named from the DSO's ELF, as the symbol table spells it (only ';' must go: it separates frames).
                func = known.Replace(';', ':');
            }
            else
            {
                if (func == "[unknown]")
                {
                    var name = dso != "[unknown]" ? dso[(dso.LastIndexOf('/') + 1)..] : "unknown";
                    func = _options.IncludeAddresses ? $"[{name} <{pc}>]" : $"[{name}]";
                }
                func = func.Replace(';', ':');
                if (_options.TrimSignatures && !IsGoMethod(func)) func = TrimSignature(func);
                if (func.AsSpan().IndexOfAny('"', '\'') >= 0) func = func.Replace("\"", "", StringComparison.Ordinal).Replace("'", "", StringComparison.Ordinal);
                if (_pnameIsJava && func.StartsWith('L') && func.Contains('/', StringComparison.Ordinal)) func = func[1..];
            }

            if (i > 0) func += "_[i]";
            else if (_options.AnnotateKernel && (dso.StartsWith('[') || dso.EndsWith("vmlinux", StringComparison.Ordinal)) && !dso.Contains("unknown", StringComparison.Ordinal)) func += "_[k]";
            else if (_options.AnnotateJit && IsJitMap(dso)) func += "_[j]";
            else if (_options.IsUserDso?.Invoke(dso) == true) func += "_[u]";
            group[i] = _names.GetOrAdd(Encoding.UTF8.GetBytes(func));
        }
        return group;
    }

    private static ulong? ParseHex(string pc) =>
        ulong.TryParse(pc.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? pc[2..] : pc, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var a) ? a : null;

    // "net/http.(*Client).Do": a '.(' with a later ').'
    private static bool IsGoMethod(string func)
    {
        var open = func.IndexOf(".(", StringComparison.Ordinal);
        return open >= 0 && func.IndexOf(").", open + 2, StringComparison.Ordinal) >= 0;
    }

    // Everything from the first '(' that does not open "(anonymous namespace)".
    private static string TrimSignature(string func)
    {
        for (var i = func.IndexOf('('); i >= 0; i = func.IndexOf('(', i + 1))
            if (!func.AsSpan(i + 1).StartsWith("anonymous namespace)", StringComparison.Ordinal)) return func[..i];
        return func;
    }

    // m:/tmp/perf-\d+\.map:
    private static bool IsJitMap(string dso)
    {
        for (var i = dso.IndexOf("/tmp/perf-", StringComparison.Ordinal); i >= 0; i = dso.IndexOf("/tmp/perf-", i + 1, StringComparison.Ordinal))
        {
            var j = i + 10;
            var digits = j;
            while (j < dso.Length && char.IsAsciiDigit(dso[j])) j++;
            if (j > digits && j + 3 < dso.Length && dso[j + 1] == 'm' && dso[j + 2] == 'a' && dso[j + 3] == 'p') return true;
        }
        return false;
    }

    // ---- the Perl script's regexes, as scanners --------------------------------------------------------------

    // Perl's \s on bytes: space, \t, \n, \v, \f, \r.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSpace(byte b) => HotSpans.IsSpace(b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    // Free of branches like HotSpans.IsWord: an offset's digits and letters alternate at random.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLowerHex(byte b) => ((uint)(b - '0') <= 9) | ((uint)(b - 'a') <= 'f' - 'a');

    /// <summary>
    /// <c>^(\S.+?)\s+(\d+)\/*(\d+)*\s+</c>: the command (at least two characters, the shortest that works, spaces
    /// allowed: "V8 WorkerThread"), then the first whitespace-delimited <c>tid</c> or <c>pid/tid</c> token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool MatchHeader(ReadOnlySpan<byte> s, out Range comm, out Range pid, out Range tid)
    {
        comm = pid = tid = default;
        if (s.Length < 2 || IsSpace(s[0])) return false;
        for (var e = 2; e < s.Length; e++)
        {
            if (!IsSpace(s[e])) continue;
            var j = e;
            while (j < s.Length && IsSpace(s[j])) j++;
            if (j == s.Length) return false;
            if (!IsDigit(s[j])) continue;
            var d1 = j;
            while (j < s.Length && IsDigit(s[j])) j++;
            var d1End = j;
            while (j < s.Length && s[j] == (byte)'/') j++;
            var d2 = j;
            while (j < s.Length && IsDigit(s[j])) j++;
            if (j < s.Length && IsSpace(s[j]))
            {
                comm = new Range(0, e);
                pid = new Range(d1, d1End);
                tid = new Range(d2, j);
                return true;
            }
        }
        return false;
    }

    /// <summary><c>:\s*(\d+)*\s+(\S+):\s*$</c>: the period (may be empty) and the event name at a header's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool MatchEvent(ReadOnlySpan<byte> s, out ReadOnlySpan<byte> period, out ReadOnlySpan<byte> name)
    {
        period = name = default;
        var end = s.Length;
        while (end > 0 && IsSpace(s[end - 1])) end--;
        if (end < 2 || s[end - 1] != (byte)':') return false;
        var colon = end - 1;
        var t = colon;
        while (t > 0 && !IsSpace(s[t - 1])) t--;
        if (t == colon || t == 0) return false;
        var q = t;
        while (q > 0 && IsSpace(s[q - 1])) q--;
        var r = q;
        while (r > 0 && IsDigit(s[r - 1])) r--;
        var u = r;
        while (u > 0 && IsSpace(s[u - 1])) u--;
        if (r < q ? u == 0 || s[u - 1] != (byte)':' : q == 0 || s[q - 1] != (byte)':') return false;
        period = s[r..q];
        name = s[t..colon];
        return true;
    }

    /// <summary>
    /// <c>^\s*(\w+)\s*(.+) \((\S*)\)</c> with Perl's backtracking: the DSO is the last <c> (...)</c> without
    /// whitespace inside, the symbol everything between the address and it (at least one character).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool MatchFrame(ReadOnlySpan<byte> s, out Range pc, out Range func, out Range dso)
    {
        pc = func = dso = default;
        var a = 0;
        while (a < s.Length && IsSpace(s[a])) a++;
        var pcEnd = HotSpans.IndexOfNonWord(s, a);
        if (pcEnd == a) return false;

        // The rightmost " (" (at or after the address's end) followed by non-space characters holding a ')': greedy
        // (.+) takes the longest symbol. Every frame line perf prints ends in "(dso)", so first the common case: the
        // line ends in ')' and its last whitespace is the space of a " (". No " (" lies to the right of that one (it
        // would hold a later space) and its tail's last ')' is the line's last byte, so it is the one the general
        // search below would find. Otherwise that search, from the right.
        int k = -1, dsoEnd = -1;
        if (s[^1] == (byte)')')
        {
            var p = HotSpans.LastIndexOfSpace(s, pcEnd);
            if (p >= 0 && s[p] == (byte)' ' && s[p + 1] == (byte)'(')
            {
                k = p;
                dsoEnd = s.Length - 1;
            }
        }
        var region = s[pcEnd..];
        for (var limit = k < 0 ? region.Length : 0; limit >= 2;)
        {
            var rel = region[..limit].LastIndexOf(" ("u8);
            if (rel < 0) break;
            var tail = region[(rel + 2)..];
            var space = tail.IndexOfAny(Spaces);
            var close = (space < 0 ? tail : tail[..space]).LastIndexOf((byte)')');
            if (close >= 0)
            {
                k = pcEnd + rel;
                dsoEnd = k + 2 + close;
                break;
            }
            limit = rel + 1; // the next candidate starts before this one
        }
        if (k < 0) return false;

        var wsEnd = pcEnd;
        while (wsEnd < s.Length && IsSpace(s[wsEnd])) wsEnd++;
        int funcStart;
        if (k - 1 >= pcEnd) funcStart = Math.Min(wsEnd, k - 1);
        else if (k - 1 >= a + 1)
        {
            // " (" right after the address: Perl gives the address's last character to the symbol.
            pcEnd = k - 1;
            funcStart = k - 1;
        }
        else return false;
        pc = new Range(a, pcEnd);
        func = new Range(funcStart, k);
        dso = new Range(k + 2, dsoEnd);
        return true;
    }

    /// <summary>
    /// Where the frame starts on a header line without call graph (<c>comm tid time: period event:  ip sym (dso)</c>):
    /// after the first token ending in ':' that is not the time, when what follows is a frame; null otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int? SingleLineFrame(ReadOnlySpan<byte> s, int afterComm)
    {
        var i = afterComm;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            var start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            if (i == start) return null;
            var token = s[start..i];
            if (token[^1] != (byte)':' || IsTime(token)) continue;
            var rest = i;
            while (rest < s.Length && IsSpace(s[rest])) rest++;
            if (rest == s.Length) return null;
            return MatchFrame(s[rest..], out _, out _, out _) ? rest : null;
        }
        return null;
    }

    // "12345.678901:"
    private static bool IsTime(ReadOnlySpan<byte> token)
    {
        var dot = token.IndexOf((byte)'.');
        return dot > 0 && token[..dot].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
            && token[(dot + 1)..^1].IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;
    }
}
