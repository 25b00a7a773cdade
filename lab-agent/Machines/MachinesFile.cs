using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Redox.Lab.Contracts.Pipelines;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Redox.Lab.Agent.Machines;

/// <summary>
/// The bench: the agent's real PCs, one YAML file (format in MACHINES.md beside this file). Loaded and
/// validated once at start; every error names the file, line, machine and field.
/// </summary>
public static class MachinesFile
{
    private static readonly string[] MachineKeys = ["name", "tags", "cpus", "memory", "mac", "boot", "console", "power", "fingerprint"];

    public static IReadOnlyList<PcSpec> Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MachinesFileException($"{path}: cannot read the machines file: {e.Message}");
        }

        return Parse(text, path);
    }

    public static IReadOnlyList<PcSpec> Parse(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new MachinesFileException($"{file}:{e.Start.Line}:{e.Start.Column}: not YAML: {e.Message}");
        }

        if (stream.Documents.Count == 0)
            throw new MachinesFileException($"{file}: empty; expected 'machines:' with a list of machines");
        try
        {
            var root = YamlMap.Open(file, "", stream.Documents[0].RootNode, "machines");
            var items = root.List("machines");
            if (items.Count == 0)
                throw root.Missing("machines");
            var machines = new List<PcSpec>();
            foreach (var (node, itemPath) in items)
            {
                // First the name alone, so every later error can name the machine.
                var probe = YamlMap.Open(file, itemPath, node, MachineKeys);
                var name = probe.Checked("name", IsName, "a machine name (letters, digits, '-', '_', '.')");
                if (machines.Any(m => m.Name == name))
                    throw probe.Fail(probe.Get("name")!, "name", $"machine '{name}' is listed twice");
                machines.Add(ReadMachine(YamlMap.Open(file, $"machine {name}", node, MachineKeys), name));
            }

            var macs = machines.GroupBy(m => m.Mac).FirstOrDefault(g => g.Count() > 1);
            if (macs is not null)
                throw new MachinesFileException($"{file}: machines {string.Join(" and ", macs.Select(m => m.Name))} have the same mac {FormatMac(macs.Key)}");
            return machines;
        }
        catch (PipelineException e)
        {
            throw new MachinesFileException(e.Message);
        }
    }

    public static string FormatMac(PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    /// <summary>Accepts <c>52:54:00:12:34:56</c>, <c>52-54-00-12-34-56</c> and <c>525400123456</c>; null otherwise.</summary>
    public static PhysicalAddress? ParseMac(string text)
    {
        var hex = text.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (hex.Length != 12 || !hex.All(char.IsAsciiHexDigit))
            return null;
        return new PhysicalAddress(Convert.FromHexString(hex));
    }

    private static PcSpec ReadMachine(YamlMap m, string name)
    {
        var tags = m.TextList("tags");
        if (tags.Any(string.IsNullOrWhiteSpace))
            throw m.Fail(m.Get("tags")!, "tags", "has an empty tag");
        var cpus = (int)m.Parsed("cpus", 1L, PipelineValues.Integer, "a whole number");
        if (cpus < 1)
            throw m.Fail(m.Get("cpus")!, "cpus", "must be at least 1");
        var memory = m.Parsed("memory", 1024.0, PipelineValues.SizeMiB, "a size like 8G or 512M");
        if (memory < 1)
            throw m.Fail(m.Get("memory")!, "memory", "must be at least 1M");
        var macText = m.RequiredText("mac");
        var mac = ParseMac(macText) ?? throw m.Fail(m.Get("mac")!, "mac", $"'{macText}' is not a MAC address like 52:54:00:12:34:56");

        var bootMap = m.Map("boot", "method", "delivery_timeout", "attempts") ?? throw m.Missing("boot");
        var method = bootMap.Checked("method", t => t is "ipxe" or "grub-efi", "one of: ipxe (BIOS PXE or iPXE firmware), grub-efi (UEFI PCs)");
        var delivery = bootMap.Parsed("delivery_timeout", TimeSpan.FromSeconds(120), PipelineValues.Duration, "a duration like 90s");
        var attempts = (int)bootMap.Parsed("attempts", 2L, PipelineValues.Integer, "a whole number");
        if (attempts is < 1 or > 10)
            throw bootMap.Fail(bootMap.Get("attempts")!, "attempts", "must be 1..10");
        var boot = new PcBootSpec(method == "ipxe" ? PcBootMethod.Ipxe : PcBootMethod.GrubEfi, delivery, attempts);

        var console = ReadConsole(m.Map("console", "type", "host", "port", "protocol", "device", "baud", "framing", "ipmi") ?? throw m.Missing("console"), m);
        var power = ReadPower(m.Map("power", "type", "host", "port", "username", "password_file", "interface", "timeout", "url", "pdu", "outlet", "broadcast", "shutdown", "on", "off", "cycle", "status") ?? throw m.Missing("power"), m);
        if (console is IpmiSolConsoleSpec { Bmc: null } sol)
        {
            // "ipmi: power" means: the BMC of the power section.
            if (power is not IpmiPowerSpec bmc)
                throw m.Fail(m.Get("console")!, "console", "type ipmi-sol needs an ipmi section, or power of type ipmi to take the BMC from");
            console = sol with { Bmc = bmc.Bmc };
        }

        var fingerprint = new Dictionary<string, string>(StringComparer.Ordinal);
        if (m.Map("fingerprint", "cpu", "microcode", "firmware", "memory", "tsc_mhz") is { } fp)
        {
            foreach (var key in new[] { "cpu", "microcode", "firmware", "memory", "tsc_mhz" })
            {
                if (fp.Text(key) is { } v)
                    fingerprint[key] = v;
            }
        }

        return new PcSpec(name, tags, cpus, (int)Math.Round(memory), mac, boot, console, power, fingerprint);
    }

    private static PcConsoleSpec ReadConsole(YamlMap c, YamlMap machine)
    {
        var type = c.Checked("type", t => t is "tcp" or "serial" or "ipmi-sol", "one of: tcp, serial, ipmi-sol");
        switch (type)
        {
            case "tcp":
                var protocol = c.Text("protocol") ?? "raw";
                if (protocol is not ("raw" or "telnet" or "rfc2217"))
                    throw c.Fail(c.Get("protocol")!, "protocol", $"'{protocol}' is not one of: raw, telnet, rfc2217");
                return new TcpConsoleSpec(c.RequiredText("host"), Port(c, "port", null), protocol switch
                {
                    "telnet" => TcpConsoleProtocol.Telnet,
                    "rfc2217" => TcpConsoleProtocol.Rfc2217,
                    _ => TcpConsoleProtocol.Raw,
                }, Baud(c), Framing(c));
            case "serial":
                return new SerialConsoleSpec(c.RequiredText("device"), Baud(c), Framing(c));
            default:
                var ipmi = c.Map("ipmi", "host", "port", "username", "password_file", "interface", "timeout");
                return new IpmiSolConsoleSpec(ipmi is null ? null : Bmc(ipmi));
        }
    }

    private static int Baud(YamlMap c)
    {
        var baud = (int)c.Parsed("baud", 115200L, PipelineValues.Integer, "a baud rate");
        return baud is > 0 and <= 4_000_000 ? baud : throw c.Fail(c.Get("baud")!, "baud", "must be 1..4000000");
    }

    private static SerialFraming Framing(YamlMap c)
    {
        var text = c.Text("framing") ?? "8N1";
        return SerialFraming.Parse(text) ?? throw c.Fail(c.Get("framing")!, "framing", $"'{text}' is not data bits, parity and stop bits like 8N1 or 7E2");
    }

    private static PcPowerSpec ReadPower(YamlMap p, YamlMap machine)
    {
        var type = p.Checked("type", t => t is "ipmi" or "pdu" or "wol" or "command" or "manual", "one of: ipmi, pdu, wol, command, manual");
        switch (type)
        {
            case "ipmi":
                return new IpmiPowerSpec(Bmc(p));
            case "pdu":
                var url = p.Checked("url", u => Uri.TryCreate(u, UriKind.Absolute, out var x) && x.Scheme is "http" or "https", "pdudaemon's http URL, e.g. http://127.0.0.1:16421");
                var outlet = (int)p.Parsed("outlet", 0L, PipelineValues.Integer, "an outlet number");
                if (p.Get("outlet") is null)
                    throw p.Missing("outlet");
                return new PduPowerSpec(new Uri(url), p.RequiredText("pdu"), outlet, Timeout(p, TimeSpan.FromSeconds(30)));
            case "wol":
                var broadcastText = p.Text("broadcast") ?? "255.255.255.255";
                if (!IPAddress.TryParse(broadcastText, out var broadcast))
                    throw p.Fail(p.Get("broadcast")!, "broadcast", $"'{broadcastText}' is not an IP address");
                return new WolPowerSpec(broadcast, Port(p, "port", 9), Command(p, "shutdown"));
            case "command":
                return new CommandPowerSpec(Command(p, "on") ?? throw p.Missing("on"), Command(p, "off") ?? throw p.Missing("off"), Command(p, "cycle"), Timeout(p, TimeSpan.FromSeconds(60)));
            default:
                return new ManualPowerSpec();
        }
    }

    private static BmcSpec Bmc(YamlMap p)
    {
        var iface = p.Text("interface") ?? "lanplus";
        if (iface is not ("lanplus" or "lan"))
            throw p.Fail(p.Get("interface")!, "interface", $"'{iface}' is not lanplus or lan");
        var passwordFile = p.Text("password_file");
        return new BmcSpec(p.RequiredText("host"), Port(p, "port", 623), p.Text("username") ?? "", passwordFile, iface, Timeout(p, TimeSpan.FromSeconds(20)));
    }

    private static IReadOnlyList<string>? Command(YamlMap p, string key)
    {
        if (p.Get(key) is null)
            return null;
        var argv = p.Get(key) is YamlSequenceNode ? p.TextList(key) : ["sh", "-c", p.RequiredText(key)];
        return argv.Count == 0 ? throw p.Fail(p.Get(key)!, key, "is an empty command") : argv;
    }

    private static TimeSpan Timeout(YamlMap p, TimeSpan fallback)
    {
        var t = p.Parsed("timeout", fallback, PipelineValues.Duration, "a duration like 20s");
        return t > TimeSpan.Zero ? t : throw p.Fail(p.Get("timeout")!, "timeout", "must be more than 0");
    }

    private static int Port(YamlMap p, string key, int? fallback)
    {
        if (p.Get(key) is null)
            return fallback ?? throw p.Missing(key);
        var port = p.Parsed(key, 0L, PipelineValues.Integer, "a port number");
        return port is >= 1 and <= 65535 ? (int)port : throw p.Fail(p.Get(key)!, key, "must be 1..65535");
    }

    private static bool IsName(string s) =>
        s.Length is > 0 and <= 64 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>The machines file is wrong; the message names the file, line, machine and field.</summary>
public sealed class MachinesFileException(string message) : Exception(message);

/// <summary>One PC of the bench.</summary>
public sealed record PcSpec(
    string Name,
    IReadOnlyList<string> Tags,
    int Cpus,
    int MemoryMiB,
    PhysicalAddress Mac,
    PcBootSpec Boot,
    PcConsoleSpec Console,
    PcPowerSpec Power,
    IReadOnlyDictionary<string, string> Fingerprint)
{
    public string MacText => MachinesFile.FormatMac(Mac);
}

public enum PcBootMethod
{
    /// <summary>The PC runs iPXE (from its PXE ROM via our TFTP server, or flashed): multiboot, Linux and sanboot.</summary>
    Ipxe,

    /// <summary>UEFI PC: GRUB's network image loads the multiboot kernel (iPXE's EFI build cannot).</summary>
    GrubEfi,
}

/// <param name="DeliveryTimeout">How long after power-on the PC may take to fetch its script and files before the attempt is an infrastructure failure.</param>
/// <param name="Attempts">Power-on attempts per boot (the boot-delivery pipeline's retries + 1).</param>
public sealed record PcBootSpec(PcBootMethod Method, TimeSpan DeliveryTimeout, int Attempts);

public abstract record PcConsoleSpec;

public enum TcpConsoleProtocol
{
    Raw,
    Telnet,
    Rfc2217,
}

public sealed record TcpConsoleSpec(string Host, int Port, TcpConsoleProtocol Protocol, int Baud, SerialFraming Framing) : PcConsoleSpec;

public sealed record SerialConsoleSpec(string Device, int Baud, SerialFraming Framing) : PcConsoleSpec;

/// <param name="Bmc">The BMC; null until taken from the power section.</param>
public sealed record IpmiSolConsoleSpec(BmcSpec? Bmc) : PcConsoleSpec;

/// <summary>Data bits, parity (N, E, O, M, S) and stop bits (1, 2), as in <c>8N1</c>.</summary>
public sealed record SerialFraming(int DataBits, char Parity, int StopBits)
{
    public static SerialFraming Default { get; } = new(8, 'N', 1);

    public static SerialFraming? Parse(string text)
    {
        if (text.Length != 3 || text[0] is < '5' or > '8' || "NEOMS".IndexOf(char.ToUpperInvariant(text[1])) < 0 || text[2] is not ('1' or '2'))
            return null;
        return new SerialFraming(text[0] - '0', char.ToUpperInvariant(text[1]), text[2] - '0');
    }

    public override string ToString() => $"{DataBits}{Parity}{StopBits}";
}

public abstract record PcPowerSpec;

/// <param name="PasswordFile">ipmitool reads the password from this file (<c>-f</c>): never on a command line or in the environment.</param>
public sealed record BmcSpec(string Host, int Port, string Username, string? PasswordFile, string Interface, TimeSpan Timeout);

public sealed record IpmiPowerSpec(BmcSpec Bmc) : PcPowerSpec;

public sealed record PduPowerSpec(Uri Url, string Pdu, int Outlet, TimeSpan Timeout) : PcPowerSpec;

/// <param name="Shutdown">How to switch the PC off (Wake-on-LAN only switches on); null: the PC powers itself off (its iPXE "no job" script).</param>
public sealed record WolPowerSpec(IPAddress Broadcast, int Port, IReadOnlyList<string>? Shutdown) : PcPowerSpec;

public sealed record CommandPowerSpec(IReadOnlyList<string> On, IReadOnlyList<string> Off, IReadOnlyList<string>? Cycle, TimeSpan Timeout) : PcPowerSpec;

/// <summary>A person presses the button; the agent only waits for the boot to be delivered.</summary>
public sealed record ManualPowerSpec : PcPowerSpec;
