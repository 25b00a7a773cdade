using System.Net;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Tests.Machines;

public sealed class MachinesFileTests
{
    private const string Good = """
        machines:
          - name: pc-ipmi
            tags: [pc, x86_64]
            cpus: 8
            memory: 16G
            mac: 52:54:00:13:00:01
            boot: { method: ipxe, delivery_timeout: 90s, attempts: 3 }
            console: { type: ipmi-sol }
            power: { type: ipmi, host: 10.0.0.9, username: admin, password_file: /etc/redox-lab/bmc }
          - name: pc-pdu
            mac: 52-54-00-13-00-02
            boot: { method: grub-efi }
            console: { type: tcp, host: 127.0.0.1, port: 3002, protocol: rfc2217, baud: 57600, framing: 8E1 }
            power: { type: pdu, url: "http://127.0.0.1:16421", pdu: bench, outlet: 2 }
          - name: pc-wol
            mac: "525400130003"
            boot: { method: ipxe }
            console: { type: serial, device: /dev/ttyUSB0 }
            power: { type: wol, broadcast: 10.0.0.255, shutdown: "ssh pc-wol poweroff" }
            fingerprint: { firmware: "AMI 1.2" }
        """;

    [Fact]
    public void Parse_ValidFile_EveryMachineWithItsParts()
    {
        var machines = MachinesFile.Parse(Good, "machines.yaml");

        Assert.Equal(["pc-ipmi", "pc-pdu", "pc-wol"], machines.Select(m => m.Name));
        var ipmi = machines[0];
        Assert.Equal(8, ipmi.Cpus);
        Assert.Equal(16384, ipmi.MemoryMiB);
        Assert.Equal(TimeSpan.FromSeconds(90), ipmi.Boot.DeliveryTimeout);
        Assert.Equal(3, ipmi.Boot.Attempts);
        var power = Assert.IsType<IpmiPowerSpec>(ipmi.Power);
        Assert.Equal(623, power.Bmc.Port);
        Assert.Equal("lanplus", power.Bmc.Interface);
        // Serial-over-LAN without its own section takes the power section's BMC.
        Assert.Equal(power.Bmc, Assert.IsType<IpmiSolConsoleSpec>(ipmi.Console).Bmc);

        var pdu = machines[1];
        Assert.Equal("52:54:00:13:00:02", pdu.MacText);
        Assert.Equal(PcBootMethod.GrubEfi, pdu.Boot.Method);
        var tcp = Assert.IsType<TcpConsoleSpec>(pdu.Console);
        Assert.Equal((TcpConsoleProtocol.Rfc2217, 57600, new SerialFraming(8, 'E', 1)), (tcp.Protocol, tcp.Baud, tcp.Framing));
        Assert.Equal(2, Assert.IsType<PduPowerSpec>(pdu.Power).Outlet);

        var wol = Assert.IsType<WolPowerSpec>(machines[2].Power);
        Assert.Equal(IPAddress.Parse("10.0.0.255"), wol.Broadcast);
        Assert.Equal(["sh", "-c", "ssh pc-wol poweroff"], wol.Shutdown);
        Assert.Equal("AMI 1.2", machines[2].Fingerprint["firmware"]);
    }

    [Theory]
    [InlineData("power: { type: ipmi, host: 10.0.0.9 }", "power: { type: ipmi }", "machine pc-1.power.host: is required")]
    [InlineData("mac: 52:54:00:13:00:01", "mac: 52:54:00:13:00", "machine pc-1.mac: '52:54:00:13:00' is not a MAC address")]
    [InlineData("console: { type: tcp, host: 127.0.0.1, port: 3001 }", "console: { type: tcp, host: 127.0.0.1, port: 70000 }", "machine pc-1.console.port: must be 1..65535")]
    [InlineData("console: { type: tcp, host: 127.0.0.1, port: 3001 }", "console: { type: tcp, host: 127.0.0.1, port: 3001, protocol: ssh }", "machine pc-1.console.protocol: 'ssh' is not one of")]
    [InlineData("boot: { method: ipxe }", "boot: { method: floppy }", "machine pc-1.boot.method: 'floppy' is not one of")]
    [InlineData("boot: { method: ipxe }", "boot: { method: ipxe, delivery_timeout: soon }", "machine pc-1.boot.delivery_timeout: 'soon' is not a duration")]
    [InlineData("power: { type: ipmi, host: 10.0.0.9 }", "power: { type: pdu, url: 'http://x:1', pdu: p }", "machine pc-1.power.outlet: is required")]
    [InlineData("power: { type: ipmi, host: 10.0.0.9 }", "power: { type: ipmi, host: 10.0.0.9, colour: red }", "machine pc-1.power.colour: unknown key 'colour'")]
    [InlineData("console: { type: tcp, host: 127.0.0.1, port: 3001 }", "console: { type: serial, device: /dev/ttyS0, framing: 9X3 }", "machine pc-1.console.framing: '9X3' is not")]
    [InlineData("console: { type: tcp, host: 127.0.0.1, port: 3001 }", "console: { type: ipmi-sol }\n    power_unused: 1", "machines[0].power_unused: unknown key")]
    public void Parse_BadField_ErrorNamesMachineAndField(string good, string bad, string expected)
    {
        const string file = """
            machines:
              - name: pc-1
                mac: 52:54:00:13:00:01
                boot: { method: ipxe }
                console: { type: tcp, host: 127.0.0.1, port: 3001 }
                power: { type: ipmi, host: 10.0.0.9 }
            """;
        Assert.Contains(good, file, StringComparison.Ordinal);

        var e = Assert.Throws<MachinesFileException>(() => MachinesFile.Parse(file.Replace(good, bad, StringComparison.Ordinal), "machines.yaml"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("machines.yaml:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SolWithoutAnyBmc_ErrorNamesConsole()
    {
        var e = Assert.Throws<MachinesFileException>(() => MachinesFile.Parse("""
            machines:
              - name: pc-1
                mac: 52:54:00:13:00:01
                boot: { method: ipxe }
                console: { type: ipmi-sol }
                power: { type: manual }
            """, "m.yaml"));

        Assert.Contains("machine pc-1.console: type ipmi-sol needs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateNameOrMac_ErrorNamesBoth()
    {
        const string one = "  - name: NAME\n    mac: MAC\n    boot: { method: ipxe }\n    console: { type: serial, device: /dev/ttyS0 }\n    power: { type: manual }\n";
        var twoNames = "machines:\n" + one.Replace("NAME", "a").Replace("MAC", "52:54:00:00:00:01") + one.Replace("NAME", "a").Replace("MAC", "52:54:00:00:00:02");
        var twoMacs = "machines:\n" + one.Replace("NAME", "a").Replace("MAC", "52:54:00:00:00:01") + one.Replace("NAME", "b").Replace("MAC", "52:54:00:00:00:01");

        Assert.Contains("machine 'a' is listed twice", Assert.Throws<MachinesFileException>(() => MachinesFile.Parse(twoNames, "m.yaml")).Message, StringComparison.Ordinal);
        Assert.Contains("machines a and b have the same mac 52:54:00:00:00:01", Assert.Throws<MachinesFileException>(() => MachinesFile.Parse(twoMacs, "m.yaml")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("machines: []")]
    [InlineData("machines: [")]
    [InlineData("hosts: []")]
    public void Parse_EmptyOrMalformed_ClearError(string yaml)
    {
        var e = Assert.Throws<MachinesFileException>(() => MachinesFile.Parse(yaml, "m.yaml"));

        Assert.StartsWith("m.yaml", e.Message, StringComparison.Ordinal);
    }
}
