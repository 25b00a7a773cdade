using System.Buffers.Binary;

namespace Redox.Lab.Agent.Boot;

public enum KernelKind
{
    Unknown,
    Multiboot,
    Multiboot2,
    LinuxBzImage,
}

/// <summary>Tells a kernel image's boot protocol from its header; GRUB needs to be told (<c>multiboot</c>, <c>multiboot2</c>, <c>linux</c>), iPXE finds out itself.</summary>
public static class KernelFormat
{
    public static KernelKind Detect(string path)
    {
        var head = new byte[32768];
        int n;
        using (var f = File.OpenRead(path))
            n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(head.AsSpan(0, n));
    }

    public static KernelKind Detect(ReadOnlySpan<byte> head)
    {
        // Multiboot 2: magic 0xE85250D6, 8-aligned within the first 32 KiB, checksum over magic, arch, length.
        for (var i = 0; i + 16 <= head.Length && i < 32768; i += 8)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(head[i..]) == 0xE85250D6
                && unchecked(0xE85250D6 + BinaryPrimitives.ReadUInt32LittleEndian(head[(i + 4)..]) + BinaryPrimitives.ReadUInt32LittleEndian(head[(i + 8)..]) + BinaryPrimitives.ReadUInt32LittleEndian(head[(i + 12)..])) == 0)
                return KernelKind.Multiboot2;
        }

        // Multiboot 1: magic 0x1BADB002, 4-aligned within the first 8 KiB, magic + flags + checksum = 0.
        for (var i = 0; i + 12 <= head.Length && i < 8192; i += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(head[i..]) == 0x1BADB002
                && unchecked(0x1BADB002 + BinaryPrimitives.ReadUInt32LittleEndian(head[(i + 4)..]) + BinaryPrimitives.ReadUInt32LittleEndian(head[(i + 8)..])) == 0)
                return KernelKind.Multiboot;
        }

        // Linux x86 boot protocol: "HdrS" at 0x202.
        if (head.Length >= 0x206 && head.Slice(0x202, 4).SequenceEqual("HdrS"u8))
            return KernelKind.LinuxBzImage;
        return KernelKind.Unknown;
    }
}
