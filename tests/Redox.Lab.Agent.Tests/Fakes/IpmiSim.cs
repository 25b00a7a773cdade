using System.Globalization;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// OpenIPMI's <c>ipmi_sim</c> as the BMC of a QEMU PC: LAN (RMCP+) on a loopback port, the VM codec on a
/// TCP port QEMU's <c>ipmi-bmc-extern</c> connects to, <c>startcmd</c> powering the PC on, and SoL
/// connected to QEMU's COM1 served as telnet. User <c>admin</c>, password in a file.
/// </summary>
public sealed class IpmiSim : IDisposable
{
    private readonly PeerProcess _process;

    public IpmiSim(string directory, string startCommand, int vmPort, int solPort)
    {
        Directory.CreateDirectory(directory);
        LanPort = Peers.FreeUdpPort();
        PasswordFile = Path.Combine(directory, "bmc-password");
        File.WriteAllText(PasswordFile, "lab-secret");
        File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = Path.Combine(directory, "lan.conf");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            name "pcipmi"
            set_working_mc 0x20
              startlan 1
                addr 127.0.0.1 {LanPort}
                priv_limit admin
                allowed_auths_callback none md2 md5 straight
                allowed_auths_user none md2 md5 straight
                allowed_auths_operator none md2 md5 straight
                allowed_auths_admin none md2 md5 straight
                guid a123456789abcdefa123456789abcdef
              endlan
              serial 15 127.0.0.1 {vmPort} codec VM
              startcmd "{startCommand}"
              sol "telnet:127.0.0.1:{solPort}" 115200
              startnow false
              user 2 true "admin" "lab-secret" admin 10 none md2 md5 straight
            """) + "\n");
        var emu = Path.Combine(directory, "sim.emu");
        File.WriteAllText(emu, "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n");
        var state = Path.Combine(directory, "state");
        Directory.CreateDirectory(state);
        _process = new PeerProcess("ipmi_sim", "-c", config, "-f", emu, "-s", state, "-n");
    }

    public int LanPort { get; }

    public string PasswordFile { get; }

    public string Output => _process.Output;

    /// <summary>QEMU's arguments for its BMC link to this simulator and its COM1 as the SoL peer.</summary>
    public static string QemuArgs(int vmPort, int solPort) =>
        $"-chardev socket,id=ipmi0,host=127.0.0.1,port={vmPort},reconnect=1 -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-bt,bmc=bmc0"
        + $" -chardev socket,id=s0,host=127.0.0.1,port={solPort},server=on,wait=off,telnet=on -serial chardev:s0";

    public string MachineYamlPower => $"{{ type: ipmi, host: 127.0.0.1, port: {LanPort}, username: admin, password_file: {PasswordFile}, timeout: 20s }}";

    public void Dispose() => _process.Dispose();
}
