using System.Globalization;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// A QEMU "PC" with no <c>-kernel</c>: it network-boots from its NIC's iPXE ROM, its COM1 is the PC end of
/// a <see cref="NullModem"/>, and it is switched on and off by shell scripts (power type <c>command</c>,
/// or pdudaemon's local-command driver, or a Wake-on-LAN listener).
/// </summary>
public sealed class QemuPc
{
    /// <param name="serial">QEMU's arguments for COM1, e.g. <see cref="SerialCable"/>.</param>
    /// <param name="extra">More arguments (the BMC link of an IPMI PC, firmware).</param>
    /// <param name="launcher">Runs QEMU, e.g. <c>ip netns exec NS </c> for a PC on a namespace's bridge.</param>
    public QemuPc(string directory, string name, string mac, string netdev, string serial, string extra = "", string launcher = "")
    {
        Directory.CreateDirectory(directory);
        Name = name;
        Mac = mac;
        PidFile = Path.Combine(directory, $"{name}.pid");
        LogFile = Path.Combine(directory, $"{name}.qemu.log");
        Command = $"{launcher}qemu-system-x86_64 -machine pc -m 256 -cpu max -accel tcg -display none -monitor none -parallel none -no-reboot"
            + $" -boot order=n -netdev {netdev} -device e1000,netdev=n0,mac={mac} {serial}"
            + $" -device isa-debug-exit,iobase=0xf4,iosize=0x04 {extra}";
        OnScript = Path.Combine(directory, $"{name}-on.sh");
        OffScript = Path.Combine(directory, $"{name}-off.sh");
        File.WriteAllText(OnScript, $"#!/bin/sh\n{OffLines}{Command} >>{LogFile} 2>&1 </dev/null &\necho $! > {PidFile}\necho on >> {PowerLog}\n");
        File.WriteAllText(OffScript, $"#!/bin/sh\n{OffLines}echo off >> {PowerLog}\n");
        File.SetUnixFileMode(OnScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(OffScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Name { get; }

    public string Mac { get; }

    public string Command { get; }

    public string PidFile { get; }

    public string LogFile { get; }

    public string OnScript { get; }

    public string OffScript { get; }

    public string PowerLog => PidFile + ".power";

    public IReadOnlyList<string> PowerEvents => File.Exists(PowerLog) ? File.ReadAllLines(PowerLog) : [];

    public bool IsRunning => File.Exists(PidFile) && Directory.Exists($"/proc/{File.ReadAllText(PidFile).Trim()}");

    /// <summary>QEMU's user networking: the host is 10.0.2.2, and DHCP's boot file is the agent's entry script.</summary>
    public static string UserNet(string bootUrl) => $"user,id=n0,bootfile={bootUrl}";

    /// <summary>COM1 on the PC end of a <see cref="NullModem"/>.</summary>
    public static string SerialCable(string device) => $"-chardev serial,id=s0,path={device} -serial chardev:s0";

    /// <summary>UEFI firmware (Debian's OVMF) with a copy of its variable store in <paramref name="directory"/>.</summary>
    public static string Ovmf(string directory)
    {
        Directory.CreateDirectory(directory);
        var vars = Path.Combine(directory, "OVMF_VARS_4M.fd");
        File.Copy("/usr/share/OVMF/OVMF_VARS_4M.fd", vars, overwrite: true);
        return $"-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,file={vars}";
    }

    public static string MacOf(int i) => $"52:54:00:13:00:{i.ToString("x2", CultureInfo.InvariantCulture)}";

    public void Off() => Peers.Sh(OffScript);

    private string OffLines => $"if [ -f {PidFile} ]; then kill -9 $(cat {PidFile}) 2>/dev/null; rm -f {PidFile}; fi\n";
}
