namespace Redox.Lab.Contracts.Api;

/// <summary>
/// A machine's health, LAVA's model (lab-server/Machines/HEALTH.md): <c>good</c> and <c>unknown</c> machines
/// take jobs (an unknown one only when no health check is pending), the others do not.
/// </summary>
public static class MachineHealth
{
    public const string Unknown = "unknown";
    public const string Good = "good";
    public const string Looping = "looping";
    public const string Bad = "bad";
    public const string Maintenance = "maintenance";
    public const string Retired = "retired";

    public static readonly string[] All = [Unknown, Good, Looping, Bad, Maintenance, Retired];

    /// <summary>What an agent may report: what it observed. Maintenance, retired and looping are an admin's.</summary>
    public static readonly string[] ByAgent = [Unknown, Good, Bad];
}

/// <summary>POST /api/agent/machines/{name}/health: what the agent saw.</summary>
/// <param name="Health">unknown (an infrastructure failure), good (health check passed), bad (health check failed, breaker open).</param>
/// <param name="Reason">For the history, e.g. "health check passed: kmain-done at 412 ms".</param>
/// <param name="RequestCheck">Ask for a health check before the machine takes jobs again (after an infrastructure failure).</param>
/// <param name="ReferenceMs">The health check's reference metric (host-timed boot to its last stage), for drift.</param>
/// <param name="Fingerprint">The machine as the kernel and the agent's configuration describe it (cpu, microcode, firmware, memory, tsc_mhz).</param>
public sealed record MachineHealthReport(
    string Health,
    string Reason,
    bool RequestCheck = false,
    double? ReferenceMs = null,
    IReadOnlyDictionary<string, string>? Fingerprint = null);

/// <summary>GET /api/agent/machines/health-checks: the agent's machines with a health check requested (on demand or after an infrastructure failure).</summary>
public sealed record HealthChecksDue(IReadOnlyList<string> Machines);

/// <summary>PUT /api/machines/{id}/health: an admin's decision (maintenance, retired, good, unknown).</summary>
public sealed record MachineHealthChange(string Health, string Reason);

/// <summary>GET /api/machines: every machine with its health.</summary>
public sealed record MachineView(
    Guid Id,
    string Agent,
    string Name,
    string Driver,
    IReadOnlyList<string> Tags,
    bool Active,
    string Health,
    string? HealthReason,
    DateTimeOffset? HealthSince,
    bool HealthCheckRequested,
    bool Drifted,
    IReadOnlyDictionary<string, string>? Fingerprint);

/// <summary>GET /api/machines/{id}/health: the history, newest first.</summary>
public sealed record MachineHealthEventView(DateTimeOffset At, string Health, string Reason, string Source, double? ReferenceMs);
