using System.Globalization;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Symbols;

/// <summary>
/// The <c>.debug_line</c> reader against binutils' <c>addr2line</c> on real gcc output: the reference kernel
/// (gcc's default, DWARF 5) and a small program built with <c>-gdwarf-4</c>; every function's entry and a
/// few bytes into it must give the same file:line as addr2line.
/// </summary>
public sealed class DwarfLinesTests
{
    [Fact]
    public async Task Lookup_ReferenceKernelDwarf5_SameFileAndLineAsAddr2line()
    {
        var kernel = await KernelElf.GetAsync();
        var lines = DwarfLines.Read(ElfFile.Parse(kernel.Bytes))!;
        var addresses = kernel.Functions.Values.Order().SelectMany(a => new[] { a, a + 5 }).ToList();

        await AssertLikeAddr2lineAsync(kernel.Path, lines, addresses);
    }

    [Fact]
    public async Task Lookup_GccDwarf4Program_SameFileAndLineAsAddr2line()
    {
        var dir = Directory.CreateTempSubdirectory("dwarf4-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "main.c"), """
                #include "util.h"
                static int twice(int x)
                {
                    return x * 2;
                }

                int entry(int n)
                {
                    int s = 0;
                    for (int i = 0; i < n; i++)
                        s += twice(i) + helper(i);
                    return s;
                }
                """);
            await File.WriteAllTextAsync(Path.Combine(dir, "util.h"), """
                static inline int helper(int v)
                {
                    if (v > 3)
                        return v - 3;
                    return v + 7;
                }
                """);
            var elf = Path.Combine(dir, "prog.elf");
            await Repo.RunAsync("gcc", dir, "-gdwarf-4", "-O0", "-ffreestanding", "-nostdlib", "-static", "-Wl,-e,entry", "-o", elf, "main.c");
            var file = ElfFile.Parse(await File.ReadAllBytesAsync(elf));
            var lines = DwarfLines.Read(file)!;
            var functions = new Symbolizer(file);
            var nm = await Repo.RunAsync("nm", null, elf);
            var addresses = nm.Split('\n').Select(l => l.Trim().Split(' ')).Where(p => p.Length == 3 && p[1] is "T" or "t")
                .Select(p => ulong.Parse(p[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture))
                .SelectMany(a => Enumerable.Range(0, 40).Select(i => a + (ulong)i)).ToList();

            await AssertLikeAddr2lineAsync(elf, lines, addresses);
            Assert.True(functions.HasLines);
            Assert.Contains(addresses, a => functions.Source(a)?.File == "main.c");
            Assert.Contains(addresses, a => lines.Lookup(a)?.File == "util.h");

            // Built without -g: no line table, and the symbolizer says so.
            var plain = Path.Combine(dir, "plain.elf");
            await Repo.RunAsync("gcc", dir, "-g0", "-O0", "-ffreestanding", "-nostdlib", "-static", "-Wl,-e,entry", "-o", plain, "main.c");
            var withoutDebug = ElfFile.Parse(await File.ReadAllBytesAsync(plain));
            Assert.Null(DwarfLines.Read(withoutDebug));
            Assert.False(new Symbolizer(withoutDebug).HasLines);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Enrich_ReferenceKernelFinding_BacktraceAndRipGetFileAndLine()
    {
        var kernel = await KernelElf.GetAsync();
        var symbols = new Symbolizer(ElfFile.Parse(kernel.Bytes));
        var kmain = kernel.Functions["kmain"];
        var finding = new FindingReport("panic", new Dictionary<string, string> { ["rip"] = $"0x{kmain:x}", ["bt"] = $"0x{kmain + 8:x},0x1" }, 0);

        var fields = FindingSymbols.Enrich(finding, symbols).Fields;

        // addr2line names files by their absolute path; ours are relative to the compilation directory.
        Assert.EndsWith("/" + fields["rip.src"], (await Addr2lineAsync(kernel.Path, [kmain]))[0], StringComparison.Ordinal);
        var bt = fields["bt.src"].Split(',');
        Assert.EndsWith("/" + bt[0], (await Addr2lineAsync(kernel.Path, [kmain + 7]))[0], StringComparison.Ordinal); // a return address: the call before it
        Assert.Equal("?", bt[1]);
        Assert.EndsWith(".c", fields["rip.src"].Split(':')[0], StringComparison.Ordinal);
    }

    /// <summary>Our lookup, written as addr2line writes it relative to the compilation directory, must end addr2line's path.</summary>
    private static async Task AssertLikeAddr2lineAsync(string elf, DwarfLines lines, IReadOnlyList<ulong> addresses)
    {
        var expected = await Addr2lineAsync(elf, addresses);
        var compared = 0;
        for (var i = 0; i < addresses.Count; i++)
        {
            var ours = lines.Lookup(addresses[i]);
            // "??:0" or "file:?": addr2line knows no line there (assembly without line information).
            if (expected[i].StartsWith("??", StringComparison.Ordinal) || expected[i].EndsWith(":?", StringComparison.Ordinal))
            {
                Assert.True(ours is null || ours.Value.Line == 0, $"0x{addresses[i]:x}: addr2line knows nothing, we say {ours}");
                continue;
            }

            Assert.True(ours is not null, $"0x{addresses[i]:x}: addr2line says {expected[i]}, we say nothing");
            Assert.True(expected[i] == ours.ToString() || expected[i].EndsWith("/" + ours, StringComparison.Ordinal),
                $"0x{addresses[i]:x}: addr2line says {expected[i]}, we say {ours}");
            compared++;
        }
        Assert.True(compared > addresses.Count / 2, $"only {compared} of {addresses.Count} addresses had lines");
    }

    private static async Task<string[]> Addr2lineAsync(string elf, IReadOnlyList<ulong> addresses)
    {
        var output = await Repo.RunAsync("addr2line", null, ["-e", elf, .. addresses.Select(a => $"0x{a:x}")]);
        // "file:line (discriminator n)" → "file:line"
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(" (", 2)[0].Trim())];
    }
}
