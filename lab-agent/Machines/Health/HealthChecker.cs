using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines.Pc;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Machines.Health;

/// <summary>
/// Runs health checks (LAVA's model, README.md beside this file): a boot of the known-good kernel of the
/// configured pipeline on one machine, when the machine is idle — periodically, after an infrastructure
/// failure, and when the server asks (on demand). Passed: good, with the check's reference metric and the
/// machine's fingerprint for drift; anything else: bad, out of scheduling. A breaker that opens makes the
/// machine bad at once.
/// </summary>
public sealed class HealthChecker(
    MachinePool machines,
    BuildRunner builder,
    BootRunner boots,
    LabServerClient server,
    IOptions<HealthCheckOptions> options,
    TimeProvider time,
    ILogger<HealthChecker> log) : BackgroundService
{
    private readonly Dictionary<string, DateTimeOffset> _lastCheck = new(StringComparer.Ordinal);
    private readonly HashSet<string> _requested = new(StringComparer.Ordinal);

    public bool Enabled => options.Value.Enabled;

    /// <summary>After an infrastructure failure on <paramref name="machine"/>: check it before it takes jobs again.</summary>
    public void Request(string machine)
    {
        lock (_requested)
            _requested.Add(machine);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var pc in machines.All.OfType<PcMachine>())
            pc.BreakerChanged += open => _ = OnBreakerAsync(pc.Info.Name, open, stoppingToken);
        if (!Enabled)
            return;
        if (!options.Value.AtStart)
        {
            foreach (var info in machines.Infos)
                _lastCheck[info.Name] = time.GetUtcNow();
        }

        using var timer = new PeriodicTimer(options.Value.Poll, time);
        do
        {
            try
            {
                foreach (var name in await DueAsync(stoppingToken))
                {
                    if (machines.Find(name) is not { } machine)
                        continue;
                    using var held = await machines.AcquireAsync(machine, stoppingToken);
                    await CheckAsync(machine, stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning("Health checks: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<IReadOnlyList<string>> DueAsync(CancellationToken ct)
    {
        var due = new SortedSet<string>(StringComparer.Ordinal);
        lock (_requested)
        {
            due.UnionWith(_requested);
            _requested.Clear();
        }

        var now = time.GetUtcNow();
        foreach (var info in machines.Infos)
        {
            if (!_lastCheck.TryGetValue(info.Name, out var last) || now - last >= options.Value.Interval)
                due.Add(info.Name);
        }

        try
        {
            due.UnionWith(await server.HealthChecksDueAsync(ct));
        }
        catch (Exception e) when (e is HttpRequestException or LabServerException or Polly.Timeout.TimeoutRejectedException)
        {
            log.LogWarning("Cannot ask the server for due health checks: {Error}", e.Message);
        }

        return [.. due];
    }

    /// <summary>One health check of <paramref name="machine"/>; reports and returns the health.</summary>
    public async Task<MachineHealthReport> CheckAsync(IMachine machine, CancellationToken ct)
    {
        _lastCheck[machine.Info.Name] = time.GetUtcNow();
        MachineHealthReport report;
        try
        {
            var path = Path.GetFullPath(options.Value.Pipeline!);
            var pipeline = PipelineLoader.Load(await File.ReadAllTextAsync(path, ct), path);
            var variant = pipeline.Variant(options.Value.Variant);
            var sink = new MemoryConsoleSink();
            var artifacts = await builder.RunAsync(pipeline, variant, Path.GetDirectoryName(path)!, line => sink.Add(new ConsoleLine(-1, time.GetUtcNow(), line.Text)), ct);
            var boot = await boots.RunAsync(0, pipeline, variant.Machine, new BootMedia(artifacts.Image, artifacts.Modules, pipeline.Boot.Cmdline), machine, sink, ct);
            var fingerprint = Fingerprint(machine, boot);
            if (boot.Outcome == Outcome.Passed)
            {
                var last = boot.Stages.LastOrDefault();
                double? reference = last is null ? null : last.HostNs / 1e6;
                report = new MachineHealthReport(MachineHealth.Good,
                    $"health check passed{(last is null ? "" : $": {last.Name} at {reference:0.###} ms after power-on")}", false, reference, fingerprint);
            }
            else
            {
                report = new MachineHealthReport(MachineHealth.Bad, $"health check failed: {boot.Outcome.ToName()}: {boot.Detail}", false, null, fingerprint);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            report = new MachineHealthReport(MachineHealth.Bad, $"health check failed: {e.Message}");
        }

        log.LogInformation("{Machine}: {Health}: {Reason}", machine.Info.Name, report.Health, report.Reason);
        await ReportAsync(machine.Info.Name, report, ct);
        return report;
    }

    /// <summary>
    /// The machine as configured (machines file <c>fingerprint:</c>) and as the kernel saw it: its <c>machine</c>
    /// marker (cpu, cpuid, microcode; already in the boot's report, and preferred to the configuration) and its TSC frequency.
    /// </summary>
    public static Dictionary<string, string> Fingerprint(IMachine machine, BootReport boot)
    {
        var fp = new Dictionary<string, string>(StringComparer.Ordinal);
        if (machine is PcMachine pc)
        {
            foreach (var (k, v) in pc.Spec.Fingerprint)
                fp[k] = v;
        }

        foreach (var (k, v) in boot.Fingerprint ?? new Dictionary<string, string>())
            fp[k] = v;

        fp.TryAdd("memory", $"{machine.Info.MemoryMiB} MiB");
        if (boot.TscHz is { } hz)
            fp["tsc_mhz"] = Math.Round(hz / 1e6).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return fp;
    }

    private async Task OnBreakerAsync(string machine, bool open, CancellationToken ct)
    {
        if (open)
            await ReportAsync(machine, new MachineHealthReport(MachineHealth.Bad, "circuit breaker opened after repeated infrastructure failures", RequestCheck: Enabled), ct);
    }

    internal async Task ReportAsync(string machine, MachineHealthReport report, CancellationToken ct)
    {
        try
        {
            await server.ReportHealthAsync(machine, report, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            log.LogWarning("{Machine}: cannot report health {Health} to the server: {Error}", machine, report.Health, e.Message);
        }
    }
}
