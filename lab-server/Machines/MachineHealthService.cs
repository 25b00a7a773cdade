using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pragmastat;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Machines;

/// <summary>
/// Health changes and their history (HEALTH.md beside this file). The server takes an agent's word only for
/// what it can observe (unknown, good, bad) and only for its own machines; maintenance and retired are an
/// admin's. Drift: a fingerprint that changed, or a health check's reference metric outside the noise of
/// the machine's last <see cref="DriftWindow"/> checks (Pragmastat's center and spread), flags the machine as drifted.
/// </summary>
public sealed class MachineHealthService(LabDbContext db, TimeProvider clock, ILogger<MachineHealthService> log)
{
    /// <summary>Health checks whose reference metric makes the noise band.</summary>
    public const int DriftWindow = 10;

    /// <summary>At least this many earlier checks before a reference metric can be called drifted.</summary>
    public const int DriftMinimum = 5;

    /// <summary>How many spreads (Shamos) from the center (Hodges-Lehmann) is beyond noise.</summary>
    public const double DriftSpreads = 5;

    /// <summary>Records an agent's report; false when the agent has no such machine.</summary>
    public async Task<bool> ReportAsync(Guid agentId, string machineName, MachineHealthReport report, CancellationToken ct)
    {
        var machine = await db.Machines.SingleOrDefaultAsync(m => m.AgentId == agentId && m.Name == machineName, ct);
        if (machine is null) return false;
        var now = clock.GetUtcNow();
        var reason = report.Reason;

        if (report.Fingerprint is { Count: > 0 } fingerprint)
        {
            var json = MergeFingerprint(machine.Fingerprint, fingerprint);
            if (machine.Fingerprint is { } old && FingerprintChange(old, fingerprint) is not null)
            {
                machine.Drifted = true;
                machine.ComparableSince = now;
                reason += $"; fingerprint changed from {old} to {json}: results across the change are not comparable";
            }
            machine.Fingerprint = json;
        }

        if (report.ReferenceMs is { } metric && report.Health == MachineHealth.Good)
        {
            var history = await db.MachineHealthEvents.Where(e => e.MachineId == machine.Id && e.ReferenceMs != null)
                .OrderByDescending(e => e.At).Take(DriftWindow).Select(e => e.ReferenceMs!.Value).ToListAsync(ct);
            if (IsDrift(history, metric) is { } why)
            {
                machine.Drifted = true;
                machine.ComparableSince = now;
                reason += $"; reference metric drifted: {why}; results across the change are not comparable";
            }
        }

        // Maintenance and retired are an admin's: the agent's observations go to the history only.
        var adminHeld = machine.Health is MachineHealth.Maintenance or MachineHealth.Retired;
        if (!adminHeld)
        {
            if (machine.Health != report.Health)
                machine.HealthSince = now;
            machine.Health = report.Health;
            machine.HealthReason = reason;
            machine.HealthCheckRequested = report.RequestCheck || (report.Health == MachineHealth.Unknown && machine.HealthCheckRequested);
            if (report.Health is MachineHealth.Good or MachineHealth.Bad)
                machine.HealthCheckRequested = false;
        }

        db.MachineHealthEvents.Add(new MachineHealthEventRow
        {
            MachineId = machine.Id, At = now, Health = report.Health, Reason = reason, Source = "agent", ReferenceMs = report.ReferenceMs,
        });
        await db.SaveChangesAsync(ct);
        log.LogInformation("Machine {Machine}: {Health} ({Reason})", machine.Name, report.Health, reason);
        return true;
    }

    /// <summary>
    /// A job's boot says what machine it ran on: a fingerprint other than the stored one flags the machine as drifted
    /// and makes boots from before <paramref name="bootStarted"/> not comparable with later ones (the health stays as it is).
    /// </summary>
    public async Task BootFingerprintAsync(Guid jobId, IReadOnlyDictionary<string, string> fingerprint, DateTimeOffset bootStarted, CancellationToken ct)
    {
        var machine = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Machine).SingleOrDefaultAsync(ct);
        if (machine is null) return;
        var json = MergeFingerprint(machine.Fingerprint, fingerprint);
        if (machine.Fingerprint == json) return;
        if (machine.Fingerprint is { } old && FingerprintChange(old, fingerprint) is { } change)
        {
            machine.Drifted = true;
            machine.ComparableSince = bootStarted;
            var reason = $"fingerprint changed ({change}) in job {jobId}: results across the change are not comparable";
            machine.HealthReason = reason;
            db.MachineHealthEvents.Add(new MachineHealthEventRow { MachineId = machine.Id, At = clock.GetUtcNow(), Health = machine.Health, Reason = reason, Source = "boot" });
            log.LogWarning("Machine {Machine}: {Reason}", machine.Name, reason);
        }
        machine.Fingerprint = json;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>An admin sets maintenance, retired, good or unknown, or asks for a health check.</summary>
    public async Task<bool> ChangeAsync(Guid machineId, string health, string reason, bool requestCheck, CancellationToken ct)
    {
        var machine = await db.Machines.SingleOrDefaultAsync(m => m.Id == machineId, ct);
        if (machine is null) return false;
        var now = clock.GetUtcNow();
        if (machine.Health != health)
            machine.HealthSince = now;
        machine.Health = health;
        machine.HealthReason = reason;
        machine.HealthCheckRequested = requestCheck;
        if (health == MachineHealth.Good)
            machine.Drifted = false; // an admin accepted the new baseline
        db.MachineHealthEvents.Add(new MachineHealthEventRow { MachineId = machine.Id, At = now, Health = health, Reason = reason, Source = "admin" });
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// The TSC frequency the kernel measured moves by its calibration's error from boot to boot (under TCG by a
    /// few MHz); a real change (another CPU, a BIOS setting) moves it by far more than this fraction.
    /// </summary>
    public const double TscTolerance = 0.02;

    /// <summary>
    /// What changed between the stored fingerprint (JSON) and a new one, or null when nothing did beyond the TSC's
    /// calibration noise. Only keys both have count: a boot reports what it saw, and a kernel that printed no
    /// <c>machine</c> or <c>tsc</c> marker (another kernel, or one that stopped early) says nothing about the CPU
    /// or its clock; a key seen for the first time is knowledge gained, not a change of the machine.
    /// </summary>
    public static string? FingerprintChange(string oldJson, IReadOnlyDictionary<string, string> current)
    {
        var old = ParseFingerprint(oldJson);
        var changes = new List<string>();
        foreach (var key in old.Keys.Intersect(current.Keys).Order(StringComparer.Ordinal))
        {
            var a = old[key];
            var b = current[key];
            if (a == b) continue;
            if (key == "tsc_mhz" && double.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out var x) && double.TryParse(b, System.Globalization.CultureInfo.InvariantCulture, out var y)
                && x > 0 && Math.Abs(y - x) / x <= TscTolerance)
                continue;
            changes.Add($"{key}: {a} -> {b}");
        }
        return changes.Count == 0 ? null : string.Join(", ", changes);
    }

    /// <summary>The stored fingerprint after a report of <paramref name="current"/>: what it saw replaces, what it did not see is kept.</summary>
    public static string MergeFingerprint(string? oldJson, IReadOnlyDictionary<string, string> current)
    {
        var merged = new SortedDictionary<string, string>(oldJson is null ? [] : ParseFingerprint(oldJson), StringComparer.Ordinal);
        foreach (var (key, value) in current)
            merged[key] = value;
        return JsonSerializer.Serialize(merged);
    }

    private static Dictionary<string, string> ParseFingerprint(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Why <paramref name="metric"/> is beyond the noise of <paramref name="history"/>, or null (Pragmastat's robust center and spread).</summary>
    public static string? IsDrift(IReadOnlyList<double> history, double metric)
    {
        if (history.Count < DriftMinimum) return null;
        var sample = new Sample(history.ToArray());
        var center = Toolkit.Center(sample).NominalValue;
        var spread = Toolkit.Spread(sample).NominalValue;
        // A spread of 0 (identical checks) would flag any change; one percent of the center is the floor of noise.
        var noise = Math.Max(spread, Math.Abs(center) * 0.01);
        return Math.Abs(metric - center) > DriftSpreads * noise
            ? $"{metric:0.###} ms against a center of {center:0.###} ms (spread {spread:0.###} ms) over the last {history.Count} checks"
            : null;
    }
}
