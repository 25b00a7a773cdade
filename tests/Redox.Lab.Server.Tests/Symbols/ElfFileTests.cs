using System.Buffers.Binary;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Symbols;

public sealed class ElfFileTests
{
    [Fact]
    public async Task Parse_RealKernel_ReadsSectionsAndEveryNmFunction()
    {
        var kernel = await KernelElf.GetAsync();

        var elf = ElfFile.Parse(kernel.Bytes);

        Assert.True(elf.IsX86_64);
        var text = Assert.Single(elf.Sections, s => s.Name == ".text");
        Assert.True(text.IsExecutable);
        Assert.Contains(elf.Sections, s => s.Name == ".symtab" && s.Type == ElfSection.SymTab);
        foreach (var (name, address) in kernel.Functions)
            Assert.Contains(elf.Symbols, s => s.Name == name && s.Value == address);
        var kmain = Assert.Single(elf.Symbols, s => s.Name == "kmain");
        Assert.Equal(ElfSymbol.Func, kmain.Type);
        Assert.True(kmain.Size > 0);
    }

    [Fact]
    public async Task BytesAt_KmainAddress_ReadsTheSectionBytesAtItsFileOffset()
    {
        var kernel = await KernelElf.GetAsync();
        var elf = ElfFile.Parse(kernel.Bytes);
        var text = elf.Sections.Single(s => s.Name == ".text");
        var kmain = kernel.Functions["kmain"];

        var bytes = elf.BytesAt(kmain, 8).ToArray();

        var offset = (int)(text.Offset + (kmain - text.Address));
        Assert.Equal(kernel.Bytes.AsSpan(offset, 8).ToArray(), bytes);
        Assert.Empty(elf.BytesAt(0x10, 8).ToArray());
        Assert.Equal(1, elf.BytesAt(text.Address + text.Size - 1, 8).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(4096)]
    public async Task Parse_TruncatedKernel_ThrowsElfFormatException(int length)
    {
        var kernel = await KernelElf.GetAsync();

        var ex = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(kernel.Bytes[..length]));

        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public async Task Parse_CutJustBeforeTheSectionHeaders_SaysTruncated()
    {
        var kernel = await KernelElf.GetAsync();
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(kernel.Bytes.AsSpan(40));

        var ex = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(kernel.Bytes[..(shoff + 10)]));

        Assert.Contains("section header table", ex.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 3, 1 }, "neither ELF32 nor ELF64")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 2 }, "not little-endian")]
    [InlineData(new byte[] { (byte)'#', (byte)'!', (byte)'/', (byte)'b' }, "bad magic")]
    public void Parse_WrongIdentification_SaysWhat(byte[] ident, string expected)
    {
        var bytes = new byte[128];
        ident.CopyTo(bytes, 0);

        var ex = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(bytes));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_SymtabPointingPastTheFile_ThrowsElfFormatException()
    {
        var kernel = await KernelElf.GetAsync();
        var bytes = (byte[])kernel.Bytes.Clone();
        var elf = ElfFile.Parse(bytes);
        var symtabIndex = elf.Sections.ToList().FindIndex(s => s.Type == ElfSection.SymTab);
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        // sh_size of .symtab: far past the end.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(shoff + symtabIndex * 64 + 32), 1UL << 40);

        var ex = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(bytes));

        Assert.Contains(".symtab", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_RandomlyCorruptedKernel_ParsesOrThrowsElfFormatExceptionOnly()
    {
        var kernel = await KernelElf.GetAsync();
        var random = new Random(1234);
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(kernel.Bytes.AsSpan(40));

        for (var round = 0; round < 300; round++)
        {
            var bytes = (byte[])kernel.Bytes.Clone();
            for (var i = 0; i < 8; i++)
            {
                // Mostly the header and the section headers, where the offsets are.
                var at = random.Next(3) switch
                {
                    0 => random.Next(64),
                    1 => shoff + random.Next(Math.Max(1, bytes.Length - shoff)),
                    _ => random.Next(bytes.Length),
                };
                if (at < bytes.Length) bytes[at] = (byte)random.Next(256);
            }
            try
            {
                var elf = ElfFile.Parse(bytes);
                var symbols = new Symbolizer(elf);
                symbols.Format(0x100000);
                symbols.DecodeInstruction(0x100000);
            }
            catch (ElfFormatException)
            {
            }
        }
    }
}
