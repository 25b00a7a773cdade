namespace Redox.Lab.Agent.Boot;

/// <summary>Network boot of real PCs, section <c>Agent:Boot</c> (Boot/README.md: the network set-up).</summary>
public sealed class BootOptions
{
    public const string Section = "Agent:Boot";

    /// <summary>Where the HTTP boot server listens, e.g. <c>http://0.0.0.0:8069</c>.</summary>
    public string HttpListen { get; set; } = "http://0.0.0.0:8069";

    /// <summary>The base URL the PCs reach the HTTP boot server at (an address on their network), e.g. <c>http://10.0.0.1:8069</c>.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>Where the TFTP server listens (<c>address:port</c>); PXE firmware only speaks to port 69. Empty: no TFTP server.</summary>
    public string? TftpListen { get; set; }

    /// <summary>Debian's <c>ipxe</c> package: <c>undionly.kpxe</c> and <c>ipxe.efi</c>.</summary>
    public string IpxeDirectory { get; set; } = "/usr/lib/ipxe";

    /// <summary>GRUB's x86_64-efi modules (Debian's <c>grub-efi-amd64-bin</c>), from which the agent builds its network image.</summary>
    public string GrubEfiModules { get; set; } = "/usr/lib/grub/x86_64-efi";

    /// <summary>proxyDHCP through dnsmasq: off unless an interface is named.</summary>
    public ProxyDhcpOptions ProxyDhcp { get; set; } = new();
}

/// <summary>The dnsmasq proxyDHCP the agent starts and stops (Boot/README.md).</summary>
public sealed class ProxyDhcpOptions
{
    /// <summary>The interface facing the PCs' network; empty: no proxyDHCP (the site's DHCP server gives the boot file).</summary>
    public string? Interface { get; set; }

    /// <summary>The PCs' subnet address, e.g. <c>10.0.0.0</c> (dnsmasq <c>dhcp-range=&lt;subnet&gt;,proxy</c>).</summary>
    public string? Subnet { get; set; }

    /// <summary>The agent's address on that network: TFTP server the PXE firmware is sent to.</summary>
    public string? ServerAddress { get; set; }

    public string Dnsmasq { get; set; } = "dnsmasq";
}
