using System.Text;
using Redox.Lab.Server.Profiles;

namespace Redox.Lab.Server.Tests.Profiles;

/// <summary>
/// One hand-written input per way perf output broke the old folder, each with the output
/// <c>stackcollapse-perf.pl</c> gives (reasoned from its regexes, noted per case), and the lab's deliberate
/// differences (PERF-SCRIPT.md).
/// </summary>
public sealed class PerfScriptFolderCasesTests
{
    private static string Fold(string text, PerfFoldOptions? options = null) =>
        PerfScriptFolder.Fold(text, options ?? PerfFoldOptions.PerlCompatible).Text;

    [Fact]
    public void Fold_CommandWithSpaces_KeepsTheWholeNameWithUnderscores()
    {
        // ^(\S.+?)\s+(\d+): the shortest command followed by a numeric token is "V8 WorkerThread"; spaces become '_'.
        const string text = "V8 WorkerThread 25607 4794564.109216: 1 cycles:\n" +
                            "\t7f0000001000 v8::Isolate::Run+0x10 (/usr/lib/libv8.so)\n" +
                            "\t7f0000000100 start_thread+0x2 (/usr/lib/libc.so.6)\n\n";

        Assert.Equal("V8_WorkerThread;start_thread;v8::Isolate::Run 1\n", Fold(text));
    }

    [Fact]
    public void Fold_FrameLinesWithoutLeadingWhitespace_StayFramesOfTheSample()
    {
        // The stack regex starts with ^\s*: no indentation needed; the lines have no numeric token, so they are no headers.
        const string text = "app 12 1.0: 1 cycles:\n400100 leaf+0x10 (/usr/bin/app)\n400000 main+0x20 (/usr/bin/app)\n\n";

        Assert.Equal("app;main;leaf 1\n", Fold(text));
    }

    [Fact]
    public void Fold_BlankLineInsideASample_EndsItWithoutAPhantomSample()
    {
        // The blank line stores "app;leaf" and forgets the command; frames up to the next header are skipped.
        const string text = "app 12 1.0: 1 cycles:\n\t400100 leaf (/a)\n\n\t400000 main (/a)\n\n" +
                            "app 12 2.0: 1 cycles:\n\t400100 leaf (/a)\n\t400000 main (/a)\n\n";

        var folded = PerfScriptFolder.Fold(text, PerfFoldOptions.PerlCompatible);

        Assert.Equal("app;leaf 1\napp;main;leaf 1\n", folded.Text);
        Assert.Equal(2, folded.Samples);
    }

    [Fact]
    public void Fold_EmptySymbol_IsWhatPerlsBacktrackingLeaves()
    {
        // "pc  (dso)": (.+) must take one character, so the symbol is the second space; "pc (dso)": \w+ gives
        // back the address's last character to (.+). Never the DSO in parentheses.
        const string text = "app 12 1.0: 1 cycles:\n\t7f1e2215d058  (/lib/x86_64-linux-gnu/libc-2.15.so)\n\t400000 main (/a)\n\n" +
                            "app 12 1.1: 1 cycles:\n\t7f1e2215d058 (/lib/libc.so)\n\t400000 main (/a)\n\n";

        Assert.Equal("app;main;  1\napp;main;8 1\n", Fold(text));
    }

    [Fact]
    public void Fold_NoCallGraphs_EachHeaderIsASampleOfItsFrame()
    {
        // perf script without -g: the ip, symbol and DSO end the header, short commands are padded with spaces.
        // Deliberate difference: the Perl script folds this into nothing (no blank lines, padded headers fail ^\S).
        const string text =
            "            perf  1234 [000]     1.000000:     250000 cpu-clock:  ffffffff81001234 native_write_msr+0x4 ([kernel.kallsyms])\n" +
            " V8 WorkerThread  1240 [001]     1.000250:     250000 cpu-clock:      55d4a0001234 v8::internal::Heap::Scavenge()+0x14 (/usr/bin/node)\n" +
            "            perf  1234 [000]     1.000500:     250000 cpu-clock:  ffffffff81001234 native_write_msr+0x4 ([kernel.kallsyms])\n" +
            "            perf  1234 [000]     1.000750:          1 cycles:  ffffffff81001234 native_write_msr+0x4 ([kernel.kallsyms])\n";

        var folded = PerfScriptFolder.Fold(text, PerfFoldOptions.Default);

        Assert.Equal("V8_WorkerThread;v8::internal::Heap::Scavenge() 250000\nperf;native_write_msr 500000\n", folded.Text);
        Assert.Equal(3, folded.Samples);
        Assert.Equal(1, folded.FilteredSamples);
        Assert.Equal("cpu-clock", folded.Event);
    }

    [Fact]
    public void Fold_StrayUnindentedLineInsideASample_IsIgnored()
    {
        // Neither regex matches "Warning:" or "Check IO/CPU overload!" (no numeric token, no " (dso)"): warned and skipped.
        const string text = "app 12 1.0: 1 cycles:\n\t400100 leaf (/a)\nWarning:\nCheck IO/CPU overload!\n\t400000 main (/a)\n\n";

        var folded = PerfScriptFolder.Fold(text, PerfFoldOptions.PerlCompatible);

        Assert.Equal("app;main;leaf 1\n", folded.Text);
        Assert.Equal(2, folded.UnrecognizedLines);
    }

    private const string Events =
        "app 12 1.0: 100 cycles:\n\t400100 leaf (/a)\n\n" +
        "app 12 1.1: 7 instructions:\n\t400000 main (/a)\n\n" +
        "app 12 1.2: 50 cycles:\n\t400100 leaf (/a)\n\n" +
        "app 12 1.3: cycles:\n\t400100 leaf (/a)\n\n";

    [Fact]
    public void Fold_SeveralEventTypes_KeepsTheFirstAndSumsPeriods()
    {
        // The first event (cycles) is the filter; periods 100 + 50, and 1 for the header without one.
        var folded = PerfScriptFolder.Fold(Events, PerfFoldOptions.PerlCompatible);

        Assert.Equal("app;leaf 151\n", folded.Text);
        Assert.Equal(3, folded.Samples);
        Assert.Equal(151, folded.Total);
        Assert.Equal(1, folded.FilteredSamples);
    }

    [Fact]
    public void Fold_EventFilterAndAllEvents_SelectTheEvents()
    {
        Assert.Equal("app;main 7\n", Fold(Events, PerfFoldOptions.PerlCompatible with { EventFilter = "instructions" }));
        Assert.Equal("app;leaf 151\napp;main 7\n", Fold(Events, PerfFoldOptions.PerlCompatible with { AllEvents = true }));
    }

    [Fact]
    public void Fold_InlineChain_SplitsAndMarksTheInlinedFrames()
    {
        // The offset goes first, then split on "->"; the frames after the first get _[i], in the line's order.
        const string text = "app 12 1.0: 1 cycles:\n\t400100 outer->middle->inner+0x10 (/a)\n\t400000 main (/a)\n\n";

        Assert.Equal("app;main;outer;middle_[i];inner_[i] 1\n", Fold(text));
    }

    private const string Unknown =
        "app 12 1.0: 1 cycles:\n\t7f0000001000 [unknown] (/usr/lib/libfoo.so)\n\t400000 main (/a)\n\n" +
        "app 12 1.1: 1 cycles:\n\t7f0000002000 [unknown] (/usr/lib/libfoo.so)\n\t400000 main (/a)\n\n" +
        "app 12 1.2: 1 cycles:\n\t7ffc00000000 [unknown] ([unknown])\n\t400000 main (/a)\n\n";

    [Fact]
    public void Fold_UnknownFramesOfAKnownDso_AreOneFrameNamedAfterIt()
    {
        Assert.Equal("app;main;[libfoo.so] 2\napp;main;[unknown] 1\n", Fold(Unknown));
    }

    [Fact]
    public void Fold_IncludeAddresses_KeepsEachUnknownAddress()
    {
        Assert.Equal("app;main;[libfoo.so <7f0000001000>] 1\napp;main;[libfoo.so <7f0000002000>] 1\napp;main;[unknown <7ffc00000000>] 1\n",
            Fold(Unknown, PerfFoldOptions.PerlCompatible with { IncludeAddresses = true }));
    }

    private const string Java =
        "java 24636/25607 [000] 1.0: 1 cycles:\n" +
        "\t7f722d142778 Lorg/mozilla/javascript/ContextFactory;.call(Lorg/mozilla/javascript/ContextAction;)Ljava/lang/Object; (/tmp/perf-24636.map)\n" +
        "\tffffffff8103ce3b native_safe_halt ([kernel.kallsyms])\n\n" +
        "app 12 1.1: 1 cycles:\n\t400000 main (/a)\n\n";

    [Fact]
    public void Fold_PidTidAndAnnotations_AsThePerlOptions()
    {
        // A TID-only header gives pid "?"; java frames lose the leading L and the signature, ';' becomes ':'.
        Assert.Equal("app;main 1\njava;native_safe_halt;org/mozilla/javascript/ContextFactory:.call 1\n", Fold(Java));
        Assert.Equal("app-?;main 1\njava-24636;native_safe_halt;Lorg/mozilla/javascript/ContextFactory:.call 1\n",
            Fold(Java, PerfFoldOptions.PerlCompatible with { IncludePid = true }));
        Assert.Equal("app-?/12;main 1\njava-24636/25607;native_safe_halt;Lorg/mozilla/javascript/ContextFactory:.call 1\n",
            Fold(Java, PerfFoldOptions.PerlCompatible with { IncludeTid = true }));
        Assert.Equal("app;main 1\njava;native_safe_halt_[k];org/mozilla/javascript/ContextFactory:.call_[j] 1\n",
            Fold(Java, PerfFoldOptions.PerlCompatible with { AnnotateKernel = true, AnnotateJit = true }));
    }

    private const string Cpp =
        "app 12 1.0: 1 cycles:\n" +
        "\t400100 std::vector<int, std::allocator<int> >::push_back(int const&)+0x1f (/a)\n" +
        "\t400050 (anonymous namespace)::helper(int)+0x3 (/a)\n" +
        "\t400040 net/http.(*Client).Do+0x3 (/a)\n" +
        "\t400000 main (/a)\n\n";

    [Fact]
    public void Fold_CppSignatures_IntactByDefaultCutWhenPerlCompatible()
    {
        // A symbol starting with '(' is skipped as a process name, as the Perl script does; Go methods keep their parens.
        Assert.Equal("app;main;net/http.(*Client).Do;std::vector<int, std::allocator<int> >::push_back(int const&) 1\n", Fold(Cpp, PerfFoldOptions.Default));
        Assert.Equal("app;main;net/http.(*Client).Do;std::vector<int, std::allocator<int> >::push_back 1\n", Fold(Cpp));
    }

    [Fact]
    public void Fold_LastSampleWithoutTrailingBlankLine_IsKept()
    {
        // Deliberate difference: the Perl script stores a sample only at a blank line.
        Assert.Equal("app;main;leaf 1\n", Fold("app 12 1.0: 1 cycles:\n\t400100 leaf (/a)\n\t400000 main (/a)"));
    }

    [Fact]
    public void Fold_CrlfInput_FoldsLikeLf()
    {
        var lf = Events + Unknown;

        Assert.Equal(Fold(lf), Fold(lf.Replace("\n", "\r\n", StringComparison.Ordinal)));
    }

    [Fact]
    public void Fold_ConsecutiveHeaders_LaterHeaderRenamesTheSameSample()
    {
        // No blank line between them: the Perl script keeps collecting frames under the last header's command.
        const string text = "one 1 1.0: 1 cycles:\n\t400100 leaf (/a)\ntwo 2 1.1: 1 cycles:\n\t400000 main (/a)\n\n";

        Assert.Equal("two;main;leaf 1\n", Fold(text));
    }

    [Fact]
    public void Fold_OneByteReads_SameAsOneRead()
    {
        var text = Events + Unknown + Java + Cpp;
        var whole = PerfScriptFolder.Fold(text, PerfFoldOptions.Default);

        var folder = new PerfScriptFolder();
        folder.Read(new TrickleStream(Encoding.UTF8.GetBytes(text)));

        Assert.Equal(whole.Text, folder.Finish().Text);
    }

    [Fact]
    public void Read_SameSamplesRepeated_TablesDoNotGrow()
    {
        var block = Encoding.UTF8.GetBytes(Events + Unknown + Java + Cpp);
        var once = new PerfScriptFolder();
        once.Read(new MemoryStream(block));
        var many = new PerfScriptFolder();
        many.Read(new MemoryStream(Enumerable.Repeat(block, 200).SelectMany(b => b).ToArray()));

        Assert.Equal(once.Footprint, many.Footprint);
        Assert.Equal(200 * once.Finish().Samples, many.Finish().Samples);
    }

    [Fact]
    public void Fold_ResolverNamesUnknownFramesPerDso_UserFramesAnnotated()
    {
        const string text = "bootstrap 2 [001] 1.0: 1 cycles:\n\t100010 [unknown] (kernel)\n\t100200 [unknown] (kernel)\n\t400123 [unknown] (bootstrap)\n\t400000 [unknown] (bootstrap)\n\n";
        var names = new Dictionary<(ulong, string), string> { [(0x100010, "kernel")] = "p2buddy_alloc", [(0x400123, "bootstrap")] = "suite_run" };

        var folded = PerfScriptFolder.Fold(text, PerfFoldOptions.Default with { IncludeAddresses = true, IsUserDso = dso => dso == "bootstrap" },
            (a, dso) => names.GetValueOrDefault((a, dso)));

        Assert.Equal("bootstrap;[bootstrap <400000>]_[u];suite_run_[u];[kernel <100200>];p2buddy_alloc 1\n", folded.Text);
    }

    /// <summary>Returns one byte per read: every line crosses a buffer boundary.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }
}
