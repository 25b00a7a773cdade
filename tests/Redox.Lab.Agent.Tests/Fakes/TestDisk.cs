using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// A BIOS-bootable disk image assembled at test time: its boot sector writes the text to COM1 and the
/// exit value to the isa-debug-exit port, like <see cref="TestKernel"/> but booted as a disk (iPXE <c>sanboot</c>).
/// 16 MiB (sparse): Debian's 2019 iPXE ROM in QEMU fails a 1 MiB SAN disk with an I/O error at boot.
/// </summary>
public static class TestDisk
{
    public static string Build(string directory, string text, byte exitValue, int sizeMiB = 16)
    {
        var message = Encoding.ASCII.GetBytes(text);
        if (message.Length > 380)
            throw new ArgumentException("the boot sector holds at most 380 bytes of text");
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "boot.s");
        var obj = Path.Combine(directory, "boot.o");
        var bin = Path.Combine(directory, "boot.bin");
        var image = Path.Combine(directory, "disk.img");
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $$"""
                .code16
                .globl _start
            _start:
                cli
                xor %ax, %ax
                mov %ax, %ds
                mov $message, %si
            1:  lodsb
                test %al, %al
                jz 3f
                mov %al, %bl
                mov $0x3fd, %dx
            2:  in %dx, %al
                test $0x20, %al
                jz 2b
                mov %bl, %al
                mov $0x3f8, %dx
                out %al, %dx
                jmp 1b
            3:  mov $0xf4, %dx
                mov ${{exitValue}}, %al
                out %al, %dx
            4:  hlt
                jmp 4b
            message:
            """);
        foreach (var chunk in message.Append((byte)0).Chunk(16))
            sb.AppendLine("    .byte " + string.Join(", ", chunk.Select(b => b.ToString(CultureInfo.InvariantCulture))));
        sb.AppendLine("    .org 510\n    .word 0xaa55");
        File.WriteAllText(source, sb.ToString());
        Run("as", "--32", "-o", obj, source);
        Run("ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", bin, obj);
        using (var f = File.Create(image))
        {
            f.Write(File.ReadAllBytes(bin));
            f.SetLength(sizeMiB * 1024L * 1024L);
        }

        return image;
    }

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} failed: {err}");
    }
}
