using System.Diagnostics;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Tests.Symbols;

/// <summary>A 32-bit x86 ELF assembled and linked by the test with the machine's binutils (as multiboot kernels are).</summary>
public sealed class Elf32Tests : IDisposable
{
    private const string Source = """
            .section .text
            .code32
            .globl start
            .type start, @function
        start:
            mov $0x3f8, %dx
            call helper
            hlt
            .size start, . - start
            .globl helper
            .type helper, @function
        helper:
            movl $1, (%eax)
            ret
            .size helper, . - helper
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("elf32-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private byte[] Link(bool strip)
    {
        var s = Path.Combine(_dir, "k.S");
        File.WriteAllText(s, Source);
        Run("as", "--32", "-o", Path.Combine(_dir, "k.o"), s);
        var output = Path.Combine(_dir, strip ? "k-stripped.elf" : "k.elf");
        Run("ld", [.. (string[])["-m", "elf_i386", "-Ttext", "0x100000", "-e", "start", "-o", output, Path.Combine(_dir, "k.o")], .. (strip ? (string[])["-s"] : [])]);
        return File.ReadAllBytes(output);
    }

    [Fact]
    public void Parse_Elf32_SymbolsAt32BitAddressesAndInstructionsDecodedIn32BitMode()
    {
        var elf = ElfFile.Parse(Link(strip: false));
        var symbols = new Symbolizer(elf);

        Assert.False(elf.Is64);
        Assert.True(elf.IsI386);
        Assert.Equal("start+0x0", symbols.Format(0x100000));
        var helper = elf.Symbols.Single(s => s.Name == "helper");
        Assert.Equal("helper+0x0", symbols.Format(helper.Value));
        Assert.Equal("mov dword ptr [eax],1", symbols.DecodeInstruction(helper.Value));
        Assert.Null(KernelSymbols.Unusable(Link(strip: false)));
    }

    [Fact]
    public void Unusable_StrippedElf32_SaysNoCodeSymbols()
    {
        Assert.Contains("has no code symbols", KernelSymbols.Unusable(Link(strip: true)), StringComparison.Ordinal);
    }

    [Fact]
    public void Enrich_KernelSymbolizedBacktrace_KeptAsPrinted()
    {
        var symbols = new Symbolizer(ElfFile.Parse(Link(strip: false)));
        var finding = new FindingReport("panic", new Dictionary<string, string>
        {
            ["bt"] = "0x100000",
            ["bt.sym"] = "kernel::panic::panic_fmt",
            ["bt.panic"] = "0x100000",
        }, 3);

        var enriched = FindingSymbols.Enrich(finding, symbols).Fields;

        Assert.Equal("kernel::panic::panic_fmt", enriched["bt.sym"]);
        Assert.Equal("start+0x0", enriched["bt.panic.sym"]);
    }

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} failed: {error}");
    }
}
