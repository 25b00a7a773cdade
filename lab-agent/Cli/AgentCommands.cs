using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Pc;
using Redox.Lab.Agent.Machines.Power;

namespace Redox.Lab.Agent.Cli;

/// <summary>
/// <c>lab-agent init</c> and <c>lab-agent check</c> (README.md "Install"): set an agent up, and try each
/// machine's power, console and boot delivery. Plain argument handling: two verbs with a few options.
/// </summary>
public static class AgentCommands
{
    /// <summary>The configuration file <c>init</c> writes and the agent reads (besides appsettings.json), unless <c>--config</c> says otherwise.</summary>
    public const string DefaultConfig = "/etc/redox-lab/agent.json";

    public static string ConfigPath(string[] args)
    {
        var i = Array.IndexOf(args, "--config");
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : DefaultConfig;
    }

    /// <summary>Writes the configuration (mode 600; it names the enrolment secret's file) and enrols once, saving the token.</summary>
    public static async Task<int> InitAsync(string[] args, Func<string[], IHost> buildHost)
    {
        string? Option(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        var server = Option("--server");
        var secretFile = Option("--secret-file");
        if (server is null || secretFile is null)
        {
            await System.Console.Error.WriteLineAsync("usage: lab-agent init --server URL --secret-file FILE [--name NAME] [--machines machines.yaml] [--state-dir DIR] [--config FILE]");
            return 2;
        }

        var config = ConfigPath(args);
        var agent = new JsonObject
        {
            ["Server"] = server,
            ["Name"] = Option("--name") ?? Environment.MachineName,
            // The file's path, not its text: the configuration holds no secret (Agent:EnrolmentSecretFile).
            ["EnrolmentSecretFile"] = Path.GetFullPath(secretFile),
            ["StateDir"] = Option("--state-dir") ?? "/var/lib/redox-lab-agent",
        };
        if (Option("--machines") is { } machines)
        {
            MachinesFile.Load(machines); // fail now, with the machine and field, not at the first start
            agent["MachinesFile"] = Path.GetFullPath(machines);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(config))!);
        await File.WriteAllTextAsync(config, new JsonObject { ["Agent"] = agent }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        System.Console.WriteLine($"wrote {config}");

        using var host = buildHost(["--config", config]);
        var token = await host.Services.GetRequiredService<AgentCredentials>().GetTokenAsync(CancellationToken.None);
        System.Console.WriteLine($"enrolled with {server} as {agent["Name"]} (token saved, {token.Length} characters)");
        return 0;
    }

    /// <summary>Tries every PC's power control (status), console (attach) and boot delivery (its script over HTTP, iPXE over TFTP); prints what works.</summary>
    public static async Task<int> CheckAsync(IHost host)
    {
        var services = host.Services;
        var pool = services.GetRequiredService<MachinePool>();
        var network = services.GetRequiredService<BootNetwork>();
        var http = services.GetRequiredService<BootHttpServer>();
        var failures = 0;
        void Line(string machine, string part, bool ok, string what)
        {
            if (!ok)
                failures++;
            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{machine,-16} {part,-8} {(ok ? "ok  " : "FAIL")} {what}"));
        }

        var pcs = pool.All.OfType<PcMachine>().ToList();
        if (pcs.Count == 0)
        {
            System.Console.WriteLine($"no PCs (Agent:MachinesFile); simulated machines: {string.Join(", ", pool.Infos.Select(m => m.Name))}");
            return 0;
        }

        await network.StartAsync(CancellationToken.None);
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (var pc in pcs)
            {
                var name = pc.Info.Name;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    var state = await pc.Power.StatusAsync(timeout.Token);
                    Line(name, "power", true, $"{pc.Power.Describe}: {(state == PowerState.Unknown ? "reachable, state unknown (this control cannot tell)" : $"is {state.ToString().ToLowerInvariant()}")}");
                }
                catch (Exception e) when (e is PowerException or OperationCanceledException)
                {
                    Line(name, "power", false, $"{pc.Power.Describe}: {e.Message}");
                }

                try
                {
                    await using var console = await pc.ConsoleLink.OpenAsync(timeout.Token);
                    Line(name, "console", true, $"{pc.ConsoleLink.Describe}: attached");
                }
                catch (Exception e) when (e is Machines.Consoles.ConsoleException or OperationCanceledException)
                {
                    Line(name, "console", false, $"{pc.ConsoleLink.Describe}: {e.Message}");
                }

                try
                {
                    // Fetched here through the listening address: the public one may only exist on the PCs' network.
                    var path = pc.Spec.Boot.Method == PcBootMethod.GrubEfi ? $"/grub/{pc.Spec.MacText}.cfg" : $"/boot/{pc.Spec.MacText}.ipxe";
                    var script = await client.GetStringAsync($"{http.LocalUrl}{path}", timeout.Token);
                    var first = script.Split('\n').FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#')) ?? "";
                    var kind = pc.Spec.Boot.Method == PcBootMethod.GrubEfi ? "GRUB configuration" : "iPXE script";
                    var served = pc.Spec.Boot.Method == PcBootMethod.GrubEfi ? script.Length > 0 : script.StartsWith("#!ipxe", StringComparison.Ordinal);
                    Line(name, "boot", served, $"{kind} served, PCs fetch {http.PublicUrl}{path} ({first.Trim()})");
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    Line(name, "boot", false, $"the boot server at {http.LocalUrl} does not answer: {e.Message}");
                }
            }

            var firmware = services.GetRequiredService<BootFirmware>();
            foreach (var file in BootFirmware.IpxeFiles.Append(BootFirmware.GrubImage))
                Line("(agent)", "firmware", firmware.Find(file) is not null, $"{file}: {firmware.Find(file) ?? "missing"}");
            Line("(agent)", "tftp", network.Tftp is not null, network.Tftp is null ? "no TFTP server (Agent:Boot:TftpListen): PXE firmware cannot fetch iPXE" : $"listening on {network.Tftp.LocalEndPoint}");
        }
        finally
        {
            await network.StopAsync(CancellationToken.None);
        }

        System.Console.WriteLine(failures == 0 ? "all parts work" : $"{failures} part(s) failed");
        return failures == 0 ? 0 : 1;
    }
}
