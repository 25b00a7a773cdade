using System.Globalization;
using System.Text;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Profiles;

public sealed class PerfScriptFolderTests
{
    private static readonly string ReferenceDir = Path.Combine(AppContext.BaseDirectory, "Profiles", "Reference");

    /// <summary>Three samples as the kernel prints them: a header, frames innermost first, a blank line.</summary>
    internal const string ThreeSamples =
        "kernel 0 [000] 0.001000: 1 cpu-clock:\n" +
        "\t100010 [unknown] (kernel)\n" +
        "\t100200 [unknown] (kernel)\n" +
        "\n" +
        "kernel 0 [000] 0.002000: 1 cpu-clock:\n" +
        "\t100010 [unknown] (kernel)\n" +
        "\t100200 [unknown] (kernel)\n" +
        "\n" +
        "kernel 0 [001] 0.003000: 1 cpu-clock:\n" +
        "\tdead [unknown] (kernel)\n" +
        "\t100200 [unknown] (kernel)\n";

    private static readonly PerfFoldOptions Addresses = PerfFoldOptions.Default with { IncludeAddresses = true };

    [Fact]
    public void Fold_WithoutSymbols_RootFirstAddressesCounted()
    {
        var folded = PerfScriptFolder.Fold(ThreeSamples, (Func<ulong, string?>?)null, Addresses);

        Assert.Equal(3, folded.Samples);
        Assert.Equal("kernel;[kernel <100200>];[kernel <100010>] 2\nkernel;[kernel <100200>];[kernel <dead>] 1\n", folded.Text);
    }

    [Fact]
    public void Fold_WithNames_UsesFunctionNamesAndAddressesForUnknown()
    {
        var names = new Dictionary<ulong, string> { [0x100010] = "p2buddy_alloc", [0x100200] = "kmain" };

        var folded = PerfScriptFolder.Fold(ThreeSamples, a => names.GetValueOrDefault(a), Addresses);

        Assert.Equal("kernel;kmain;[kernel <dead>] 1\nkernel;kmain;p2buddy_alloc 2\n", folded.Text);
    }

    [Fact]
    public void Fold_PerfSymbolsCrlfCommentsAndConsecutiveHeaders_Handled()
    {
        const string text =
            "# comment\r\n" +
            "swapper     0 [000]  1.0:          1 cycles:\r\n" +
            "\tffffffff81001234 do_idle+0x24 ([kernel.kallsyms])\r\n" +
            "\tffffffff81000010 start_kernel+0x10 ([kernel.kallsyms])\r\n" +
            "\r\n" +
            "swapper     0 [000]  2.0:          1 cycles:\r\n" +
            "swapper     0 [000]  3.0:          1 cycles:\r\n" +
            "\tffffffff81000010 [unknown] (kernel)\r\n";

        var folded = PerfScriptFolder.Fold(text, (Func<ulong, string?>?)null);

        // Without a blank line between them the two last headers are one sample (as in stackcollapse-perf.pl).
        Assert.Equal(2, folded.Samples);
        Assert.Equal("swapper;[kernel] 1\nswapper;start_kernel;do_idle 1\n", folded.Text);
    }

    [Fact]
    public async Task Fold_RealKernelSymbols_NamesFunctionsWithoutOffsets()
    {
        var kernel = await KernelElf.GetAsync();
        var symbols = new Symbolizer(ElfFile.Parse(kernel.Bytes));
        var text = $"kernel 0 [000] 1.0: 1 cpu-clock:\n\t{kernel.Functions["serial_init"] + 3:x} [unknown] (kernel)\n\t{kernel.Functions["kmain"] + 0x20:x} [unknown] (kernel)\n\t1 [unknown] (kernel)\n";

        var folded = PerfScriptFolder.Fold(text, symbols, Addresses);

        Assert.Equal("kernel;[kernel <1>];kmain;serial_init 1\n", folded.Text);
    }

    [Theory]
    [InlineData("redox-boot-before.folded")]
    [InlineData("redox-boot-after.folded")]
    [InlineData("redox-boot-and-netsurf-before.folded")]
    public void Fold_ReferenceProfileUnfoldedToPerfScript_FoldsBackToTheSameStacks(string file)
    {
        var original = File.ReadAllText(Path.Combine(ReferenceDir, file));
        var (perfScript, names, samples) = Unfold(original);

        var folded = PerfScriptFolder.Fold(perfScript, a => names.GetValueOrDefault(a));

        Assert.Equal(samples, folded.Samples);
        Assert.Equal(Stacks(original), Stacks(folded.Text));
    }

    [Theory]
    [InlineData("fold-demo.perf-script", "fold-demo.folded", "")]
    [InlineData("fold-demo.perf-script", "fold-demo.all-pid.folded", "--all --pid")]
    [InlineData("kernel-build.perf-script.gz", "kernel-build.folded.gz", "")]
    [InlineData("kernel-build.perf-script.gz", "kernel-build.all-tid.folded.gz", "--all --tid")]
    public void Fold_RealPerfOutput_SameBytesAsStackcollapsePerl(string input, string expected, string perlOptions)
    {
        var options = PerfFoldOptions.PerlCompatible;
        foreach (var option in perlOptions.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            options = option switch
            {
                "--all" => options with { AnnotateKernel = true, AnnotateJit = true },
                "--pid" => options with { IncludePid = true },
                "--tid" => options with { IncludeTid = true },
                _ => throw new ArgumentException(option),
            };
        }
        using var stream = Open(input);

        var folded = PerfScriptFolder.Fold(stream, options);

        using var reader = new StreamReader(Open(expected));
        Assert.Equal(reader.ReadToEnd(), folded.Text);
        Assert.True(folded.Samples > 50);
    }

    private static Stream Open(string name)
    {
        Stream file = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Profiles", "PerfScript", name));
        return name.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
    }

    [Fact]
    public void Summarise_ReferenceProfile_TopFunctionsMatchTheKnownAllocatorShare()
    {
        var original = File.ReadAllText(Path.Combine(ReferenceDir, "redox-boot-before.folded"));

        var summary = FoldedStacks.Summarise(original, symbolized: true, top: 15);

        Assert.Equal(6450, summary.Samples);
        Assert.Equal(15, summary.TopSelf.Count);
        Assert.Equal(15, summary.TopTotal.Count);
        const string allocate = "[<rmm::allocator::frame::buddy::BuddyAllocator<A> as rmm::allocator::frame::FrameAllocator>::allocate]";
        var byTotal = Assert.Single(summary.TopTotal, f => f.Name == allocate);
        Assert.Equal(2309, byTotal.Total);
        Assert.Equal(allocate, summary.TopSelf[0].Name);
        Assert.Equal(2268, summary.TopSelf[0].Self);
        Assert.Equal("[kernel::context::switch::switch]", summary.TopTotal[0].Name);
        Assert.DoesNotContain(summary.TopTotal, f => f.Name == "kernel");
        Assert.True(summary.TopSelf.Zip(summary.TopSelf.Skip(1)).All(p => p.First.Self >= p.Second.Self));
    }

    [Fact]
    public void Summarise_RecursiveStack_CountsTotalOncePerSample()
    {
        var summary = FoldedStacks.Summarise("kernel;a;b;a 3\nkernel;a 1\nkernel 2\nnot a line\n", symbolized: false, top: 15);

        Assert.Equal(6, summary.Samples);
        var a = Assert.Single(summary.TopTotal, f => f.Name == "a");
        Assert.Equal(4, a.Total);
        Assert.Equal(4, a.Self);
        Assert.Equal(3, summary.TopTotal.Single(f => f.Name == "b").Total);
        Assert.Equal(0, summary.TopTotal.Single(f => f.Name == "b").Self);
    }

    /// <summary>perf-script text for a folded profile: one address per distinct frame name, frames innermost first.</summary>
    private static (string PerfScript, Dictionary<ulong, string> Names, int Samples) Unfold(string folded)
    {
        var addresses = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var names = new Dictionary<ulong, string>();
        var sb = new StringBuilder();
        var samples = 0;
        var time = 0;
        foreach (var (frames, count) in FoldedStacks.Parse(folded))
        {
            for (var i = 0; i < count; i++)
            {
                samples++;
                sb.Append(CultureInfo.InvariantCulture, $"{frames[0]} 0 [000] {++time / 1000.0:0.000000}: 1 cpu-clock:\n");
                foreach (var frame in frames.Skip(1).Reverse())
                {
                    if (!addresses.TryGetValue(frame, out var address))
                    {
                        address = 0xffff_8000_0010_0000UL + (ulong)addresses.Count * 0x40;
                        addresses[frame] = address;
                        names[address] = frame;
                    }
                    sb.Append(CultureInfo.InvariantCulture, $"\t{address:x} [unknown] (kernel)\n");
                }
                sb.Append('\n');
            }
        }
        return (sb.ToString(), names, samples);
    }

    private static Dictionary<string, long> Stacks(string folded) => FoldedStacks.Parse(folded)
        .GroupBy(s => string.Join(';', s.Frames), StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Count), StringComparer.Ordinal);
}
