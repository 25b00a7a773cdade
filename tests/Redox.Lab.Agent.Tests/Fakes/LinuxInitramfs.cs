using System.Diagnostics;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// Debian's installed stock kernel (<c>linux-image-amd64</c>, a bzImage) and an initramfs of
/// <c>busybox-static</c> whose <c>/init</c> prints the given lines on the console and powers off.
/// </summary>
public static class LinuxInitramfs
{
    public static (string Vmlinuz, string Initramfs) Build(string directory, string consoleText)
    {
        var kernel = Directory.GetFiles("/boot", "vmlinuz-*").Order(StringComparer.Ordinal).LastOrDefault()
            ?? throw new InvalidOperationException("no /boot/vmlinuz-*: scripts/install-deps.sh installs linux-image-amd64");
        var root = Path.Combine(directory, "root");
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"), overwrite: true);
        File.WriteAllText(Path.Combine(root, "console.txt"), consoleText + "\n");
        File.WriteAllText(Path.Combine(root, "init"), "#!/bin/busybox sh\n/bin/busybox cat /console.txt\n/bin/busybox poweroff -f\n");
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0b111_101_101);
        var initramfs = Path.Combine(directory, "initramfs.cpio.gz");
        var start = new ProcessStartInfo("sh") { RedirectStandardError = true, ArgumentList = { "-c", $"cd '{root}' && find . | cpio -o -H newc --quiet | gzip -1 > '{initramfs}'" } };
        using (var p = Process.Start(start)!)
        {
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"initramfs: {error}");
        }

        var vmlinuz = Path.Combine(directory, "vmlinuz");
        File.Copy(kernel, vmlinuz, overwrite: true);
        return (vmlinuz, initramfs);
    }
}
