using Redox.Lab.Server.Findings;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Symbols;

public sealed class SymbolizerTests
{
    private static async Task<(KernelElf Kernel, Symbolizer Symbols)> KernelAsync()
    {
        var kernel = await KernelElf.GetAsync();
        return (kernel, new Symbolizer(ElfFile.Parse(kernel.Bytes)));
    }

    [Fact]
    public async Task Format_KmainAddressFromNm_IsKmainPlusZero()
    {
        var (kernel, symbols) = await KernelAsync();

        Assert.Equal("kmain+0x0", symbols.Format(kernel.Functions["kmain"]));
        Assert.Equal("kmain+0x1a", symbols.Format(kernel.Functions["kmain"] + 0x1a));
    }

    [Fact]
    public async Task Lookup_EveryNmFunction_ResolvesToASymbolAtThatAddress()
    {
        var (kernel, symbols) = await KernelAsync();

        foreach (var (name, address) in kernel.Functions)
        {
            var hit = symbols.Lookup(address);
            Assert.NotNull(hit);
            Assert.Equal(0UL, hit.Value.Offset);
            // Aliases (two names, one address) resolve to one of them.
            Assert.Equal(address, kernel.Functions[hit.Value.Name]);
            Assert.True(hit.Value.Name == name || kernel.Functions[name] == address);
        }
    }

    [Fact]
    public async Task Lookup_AddressOutsideEverySymbol_IsNull()
    {
        var (_, symbols) = await KernelAsync();

        Assert.Null(symbols.Lookup(0));
        Assert.Null(symbols.Lookup(0xdead000));
        Assert.Null(symbols.Format(ulong.MaxValue));
    }

    [Fact]
    public async Task Lookup_InsideAnAssemblyLabelWithoutSize_NamesTheLabel()
    {
        var (kernel, symbols) = await KernelAsync();
        var label = kernel.Functions["long_mode_entry"];

        Assert.Equal("long_mode_entry+0x4", symbols.Format(label + 4));
    }

    [Fact]
    public void Decode_KnownBytes_IsIntelSyntaxWithMemorySize()
    {
        Assert.Equal("mov qword ptr [rax],rdx", Symbolizer.Decode([0x48, 0x89, 0x10], 0x1000));
        Assert.Equal("mov rsi,qword ptr [rbx+40h]", Symbolizer.Decode([0x48, 0x8b, 0x73, 0x40], 0x102c4a));
        Assert.Equal("ret", Symbolizer.Decode([0xc3, 0x90], 0));
        Assert.Null(Symbolizer.Decode([0x48], 0));
        Assert.Null(Symbolizer.Decode([], 0));
    }

    [Fact]
    public async Task DecodeInstruction_AtKmain_MatchesObjdumpAndNamesCallTargets()
    {
        var (kernel, symbols) = await KernelAsync();
        var kmain = kernel.Functions["kmain"];

        var insn = symbols.DecodeInstruction(kmain);

        Assert.NotNull(insn);
        Assert.Equal(await kernel.ObjdumpMnemonicAsync(kmain), insn.Split(' ')[0]);
        Assert.Null(symbols.DecodeInstruction(0xdead000));
        // A call inside kmain names its target instead of printing a bare address.
        var call = Enumerable.Range(0, 0x100).Select(i => symbols.DecodeInstruction(kmain + (ulong)i))
            .FirstOrDefault(s => s is not null && s.StartsWith("call ", StringComparison.Ordinal) && !s.Contains('[', StringComparison.Ordinal));
        Assert.NotNull(call);
        Assert.Contains(call[5..].Split('+')[0], kernel.Functions.Keys);
    }

    [Fact]
    public async Task Enrich_FindingWithBacktraceAndRip_AddsBtSymRipSymAndInsn()
    {
        var (kernel, symbols) = await KernelAsync();
        var kmain = kernel.Functions["kmain"];
        var serial = kernel.Functions["serial_init"];
        var finding = new FindingReport("page-fault", new Dictionary<string, string>
        {
            ["rip"] = $"0x{kmain:x}",
            ["bt"] = $"0x{serial + 4:x},0x{kmain + 0x10:x},0x1,junk",
        }, 3);

        var enriched = FindingSymbols.Enrich(finding, symbols);

        Assert.Equal("serial_init+0x4,kmain+0x10,?,?", enriched.Fields["bt.sym"]);
        Assert.Equal("kmain+0x0", enriched.Fields["rip.sym"]);
        Assert.Equal(symbols.DecodeInstruction(kmain), enriched.Fields["insn"]);
        Assert.Equal(finding.Fields["bt"], enriched.Fields["bt"]);
        Assert.False(finding.Fields.ContainsKey("bt.sym"));
    }

    [Theory]
    [InlineData("0x1c3000", 0x1c3000UL)]
    [InlineData("ffffffff80001234", 0xffffffff80001234UL)]
    [InlineData("0XAB", 0xabUL)]
    [InlineData("0x", null)]
    [InlineData("xyz", null)]
    [InlineData("0x11112222333344445", null)]
    public void ParseAddress_Text_ParsesHexOrNull(string text, ulong? expected)
    {
        Assert.Equal(expected, Symbolizer.ParseAddress(text));
    }
}
