using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// A tiny 32-bit multiboot kernel assembled at test time with the machine's <c>as</c> and <c>ld</c>:
/// it writes its text to COM1 (port 0x3f8), then either writes <c>exitValue</c> to the
/// isa-debug-exit port 0xf4 (QEMU ends with status <c>(v &lt;&lt; 1) | 1</c>), or ends as <see cref="Ending"/>
/// says, or halts for ever.
/// </summary>
public static class TestKernel
{
    private const string LinkerScript = """
        ENTRY(_start)
        SECTIONS
        {
            . = 0x100000;
            .text : { *(.multiboot) *(.text) }
            .rodata : { *(.rodata) }
        }
        """;

    /// <summary>How the kernel ends after its text when it writes no exit value.</summary>
    public enum Ending
    {
        /// <summary><c>cli; hlt</c> for ever.</summary>
        Halt,
        /// <summary>ACPI power-off (PM1a control of QEMU's PIIX4 at port 0x604, SLP_EN).</summary>
        PowerOff,
        /// <summary>An empty IDT, then <c>int3</c>: a triple fault, which resets the machine.</summary>
        TripleFault,
        /// <summary>Writes PANICKED (1) to QEMU's pvpanic ISA device at port 0x505, then halts.</summary>
        PvPanic,
    }

    public static string Build(string directory, string text, byte? exitValue, Ending ending = Ending.Halt)
    {
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "kernel.s");
        var obj = Path.Combine(directory, "kernel.o");
        var script = Path.Combine(directory, "kernel.ld");
        var image = Path.Combine(directory, "kernel.elf");
        File.WriteAllText(source, Assembly(Encoding.UTF8.GetBytes(text), exitValue, ending));
        File.WriteAllText(script, LinkerScript);
        Run("as", "--32", "-o", obj, source);
        Run("ld", "-m", "elf_i386", "-T", script, "-o", image, obj);
        return image;
    }

    private static string Assembly(byte[] message, byte? exitValue, Ending ending)
    {
        var sb = new StringBuilder();
        sb.AppendLine("""
                .set MB_MAGIC, 0x1BADB002
                .set MB_FLAGS, 0
                .section .multiboot, "a"
                .align 4
                .long MB_MAGIC
                .long MB_FLAGS
                .long -(MB_MAGIC + MB_FLAGS)

                .section .text
                .code32
                .globl _start
            _start:
                mov $message, %esi
                mov $message_end, %edi
            1:  cmp %edi, %esi
                je 3f
                mov $0x3fd, %dx
            2:  in %dx, %al
                test $0x20, %al
                jz 2b
                movb (%esi), %al
                mov $0x3f8, %dx
                out %al, %dx
                inc %esi
                jmp 1b
            3:
            """);
        if (exitValue is { } v)
            sb.AppendLine(CultureInfo.InvariantCulture, $"    mov $0xf4, %dx\n    mov ${v}, %al\n    out %al, %dx");
        else if (ending == Ending.PowerOff)
            sb.AppendLine("    mov $0x604, %dx\n    mov $0x2000, %ax\n    out %ax, %dx");
        else if (ending == Ending.TripleFault)
            sb.AppendLine("    lidt empty_idt\n    int3");
        else if (ending == Ending.PvPanic)
            sb.AppendLine("    mov $0x505, %dx\n    mov $1, %al\n    out %al, %dx");
        sb.AppendLine("""
            4:  cli
                hlt
                jmp 4b

                .section .rodata
                .align 8
            empty_idt:
                .word 0
                .long 0
            message:
            """);
        foreach (var chunk in message.Chunk(16))
            sb.AppendLine("    .byte " + string.Join(", ", chunk.Select(b => b.ToString(CultureInfo.InvariantCulture))));
        sb.AppendLine("message_end:");
        return sb.ToString();
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
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {error}");
    }
}
