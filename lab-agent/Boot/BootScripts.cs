using System.Text;

namespace Redox.Lab.Agent.Boot;

/// <summary>
/// The scripts a PC runs: iPXE for BIOS PCs and iPXE firmware, a GRUB configuration for UEFI PCs
/// (Boot/README.md shows them). Files are named by URL under the delivery's token.
/// </summary>
public static class BootScripts
{
    /// <summary>The first script every iPXE fetches (from proxyDHCP, DHCP option 67 or an embedded script): it chains to its own per-MAC script.</summary>
    public static string IpxeEntry(string baseUrl) => $$"""
        #!ipxe
        echo Redox Lab: fetching the script for ${net0/mac}
        chain {{baseUrl}}/boot/${net0/mac}.ipxe || goto failed
        :failed
        echo Redox Lab: the agent did not answer; powering off
        poweroff || exit
        """ + "\n";

    public static string IpxeNoJob(string mac) => $"""
        #!ipxe
        echo Redox Lab: no job for {mac}: power off
        poweroff || exit
        """ + "\n";

    public static string Ipxe(Delivery d, string baseUrl)
    {
        var sb = new StringBuilder();
        sb.Append("#!ipxe\n");
        sb.Append($"echo Redox Lab: {Clean(d.Label)}\n");
        var files = $"{baseUrl}/files/{d.Pc.MacText}/{d.Token}";
        if (d.Media.IsDiskImage)
        {
            // Range requests: iPXE reads the image block by block, as a disk.
            sb.Append($"set step sanboot\nsanboot --no-describe {files}/disk.img || goto failed\n");
        }
        else
        {
            sb.Append("set step kernel\n");
            sb.Append($"kernel {files}/kernel {Clean(d.Media.Cmdline)}".TrimEnd()).Append(" || goto failed\n");
            for (var i = 0; i < d.Media.Modules.Count; i++)
                sb.Append($"set step module{i}\ninitrd {files}/module{i} || goto failed\n");
            sb.Append("set step boot\nboot || goto failed\n");
        }

        // Telling the agent makes a failed delivery an infrastructure failure at once, not at the delivery timeout.
        sb.Append($":failed\necho Redox Lab: boot failed at ${{step}}; powering off\nimgfetch {baseUrl}/failed/{d.Pc.MacText}/{d.Token}?step=${{step}} ||\npoweroff || exit\n");
        return sb.ToString();
    }

    /// <summary>GRUB's configuration for a UEFI PC: multiboot2, multiboot or linux by the kernel's header; chainloading a disk image is not possible over the network, so it says so.</summary>
    public static string Grub(Delivery? d, string baseUrl, string mac)
    {
        var sb = new StringBuilder();
        sb.Append("set timeout=0\n");
        if (d is null)
        {
            sb.Append($"echo 'Redox Lab: no job for {mac}: power off'\nhalt\n");
            return sb.ToString();
        }

        var uri = new Uri(baseUrl);
        var files = $"(http,{uri.Host}:{uri.Port})/files/{d.Pc.MacText}/{d.Token}";
        sb.Append($"echo 'Redox Lab: {Clean(d.Label).Replace("'", "", StringComparison.Ordinal)}'\n");
        if (d.Media.IsDiskImage)
        {
            sb.Append("echo 'Redox Lab: disk images cannot be booted through GRUB over the network; use boot method ipxe'\nhalt\n");
            return sb.ToString();
        }

        var (kernelCmd, moduleCmd) = KernelFormat.Detect(d.Media.Image) switch
        {
            KernelKind.Multiboot2 => ("multiboot2", "module2"),
            KernelKind.LinuxBzImage => ("linux", "initrd"),
            _ => ("multiboot", "module"),
        };
        sb.Append($"{kernelCmd} {files}/kernel {Clean(d.Media.Cmdline)}".TrimEnd()).Append('\n');
        if (d.Media.Modules.Count > 0)
        {
            if (kernelCmd == "linux")
                sb.Append("initrd").Append(string.Concat(Enumerable.Range(0, d.Media.Modules.Count).Select(i => $" {files}/module{i}"))).Append('\n');
            else
                for (var i = 0; i < d.Media.Modules.Count; i++)
                    sb.Append($"{moduleCmd} {files}/module{i} module{i}\n");
        }

        sb.Append("boot\necho 'Redox Lab: boot failed'\nhalt\n");
        return sb.ToString();
    }

    // A command line or label with a newline would add script commands; they never need one.
    private static string Clean(string s) => s.Replace('\n', ' ').Replace('\r', ' ');
}
