using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard.Pages.Machines;

/// <summary>Machines and agents (<c>/machines</c>). Implemented by lab-server's <c>Dashboard/MachinesQuery</c>.</summary>
public interface IMachinesQuery
{
    Task<MachinesModel> GetAsync(CancellationToken ct);
}

/// <summary>What a machine is doing: <c>busy</c> (a job is running on it), <c>idle</c> (its agent polls), <c>offline</c> (its agent is silent), <c>retired</c> (no longer offered).</summary>
public static class MachineStates
{
    public const string Busy = "busy", Idle = "idle", Offline = "offline", Retired = "retired";
}

/// <summary>A job on a machine, for "current" and "recent".</summary>
public sealed record MachineJob(Guid JobId, Guid RunId, string Commit, string? Branch, string Variant, Outcome Outcome, string? Detail, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt);

/// <summary>One entry of a machine's health history (lab-server/Machines/HEALTH.md).</summary>
public sealed record HealthEvent(DateTimeOffset At, string Health, string Reason, string Source);

/// <param name="Health">LAVA's health: unknown, good, looping, bad, maintenance, retired.</param>
/// <param name="Drifted">Its fingerprint or reference metric changed: results across the change are not comparable.</param>
/// <param name="HealthHistory">The last changes, newest first.</param>
public sealed record MachineItem(
    Guid Id, string Agent, string Name, string Driver, IReadOnlyList<string> Tags, int Cpus, int MemoryMiB,
    string State, DateTimeOffset AgentLastSeen, MachineJob? Current, IReadOnlyList<MachineJob> Recent,
    string Health = "unknown", string? HealthReason = null, bool HealthCheckRequested = false, bool Drifted = false,
    IReadOnlyList<HealthEvent>? HealthHistory = null)
{
    public string FullName => $"{Agent}/{Name}";
}

public sealed record AgentItem(Guid Id, string Name, string? Version, DateTimeOffset CreatedAt, DateTimeOffset LastSeen, bool Online, int Machines);

public sealed record MachinesModel(IReadOnlyList<AgentItem> Agents, IReadOnlyList<MachineItem> Machines);
