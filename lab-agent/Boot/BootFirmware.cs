using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Boot;

/// <summary>
/// The firmware files the agent hands to PCs over TFTP and HTTP: Debian's iPXE builds
/// (<c>undionly.kpxe</c> for BIOS PXE ROMs, <c>ipxe.efi</c> and <c>snponly.efi</c> for UEFI) and a GRUB
/// network image (<c>grubx64.efi</c>) built at start with <c>grub-mkimage</c> from Debian's
/// <c>grub-efi-amd64-bin</c> modules, with an embedded configuration that fetches
/// <c>/grub/&lt;mac&gt;.cfg</c> from this agent. This list is all TFTP serves.
/// </summary>
public sealed class BootFirmware(IOptions<BootOptions> options, IOptions<AgentOptions> agent, ILogger<BootFirmware> log)
{
    public static readonly string[] IpxeFiles = ["undionly.kpxe", "ipxe.efi", "snponly.efi"];
    public const string GrubImage = "grubx64.efi";

    private string? _grub;

    public string? Find(string name)
    {
        if (name == GrubImage)
            return _grub;
        if (Array.IndexOf(IpxeFiles, name) < 0)
            return null;
        var path = Path.Combine(options.Value.IpxeDirectory, name);
        return File.Exists(path) ? path : null;
    }

    /// <summary>The modules GRUB needs to fetch over HTTP and TFTP on EFI networking and load each kernel kind.</summary>
    public static readonly string[] GrubModules =
        ["efinet", "net", "http", "tftp", "normal", "configfile", "echo", "test", "halt", "reboot", "sleep",
         "multiboot", "multiboot2", "linux", "serial", "terminal", "all_video"];

    /// <summary>Builds <c>grubx64.efi</c> for <paramref name="publicUrl"/>; GRUB stays unavailable (logged) when its modules are missing.</summary>
    public async Task BuildGrubAsync(string publicUrl, CancellationToken cancellationToken)
    {
        var modules = options.Value.GrubEfiModules;
        if (!File.Exists(Path.Combine(modules, "efinet.mod")))
        {
            log.LogWarning("No GRUB EFI modules in {Dir} (Debian: grub-efi-amd64-bin): UEFI PCs with boot method grub-efi cannot boot", modules);
            return;
        }

        var dir = Path.Combine(agent.Value.StatePath, "boot");
        Directory.CreateDirectory(dir);
        var uri = new Uri(publicUrl);
        var server = $"(http,{uri.Host}:{uri.Port})";
        var embedded = Path.Combine(dir, "grub-embedded.cfg");
        await File.WriteAllTextAsync(embedded, GrubEmbeddedConfig(server), cancellationToken);
        var output = Path.Combine(dir, GrubImage);
        var result = await ProcessRunner.RunAsync("grub-mkimage",
            ["-O", "x86_64-efi", "-d", modules, "-o", output, "-p", $"{server}/grub", "-c", embedded, .. GrubModules],
            dir, null, null, cancellationToken);
        if (result.ExitCode != 0)
            throw new LabInfraException($"grub-mkimage failed: {string.Join(" | ", result.Tail)}");
        _grub = output;
        log.LogInformation("GRUB network image {Path} fetches its configuration from {Server}/grub/<mac>.cfg", output, server);
    }

    /// <summary>
    /// Runs inside GRUB: load this PC's configuration, named by the MAC address of the interface the firmware booted
    /// from (<c>efinet</c> configures it from the firmware's own DHCP answer). GRUB runs an embedded configuration with
    /// its rescue parser, before normal mode: no <c>if</c> (a line with one printed "Unknown command `if'" and did nothing).
    /// </summary>
    public static string GrubEmbeddedConfig(string server) => $$"""
        configfile {{server}}/grub/${net_default_mac}.cfg
        echo "Redox Lab: cannot fetch {{server}}/grub/${net_default_mac}.cfg"
        sleep 10
        halt
        """ + "\n";
}
