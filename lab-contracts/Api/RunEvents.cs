namespace Redox.Lab.Contracts.Api;

// GET /api/runs/{id}/events: a run as it happens, as server-sent events (lab-server/Runs/RunEventsApi.cs). Each event's
// `event:` field names its type and `data:` is one of these records as JSON. The stream ends after `end`.
//   run    RunEvent        once, first: the run as it stands
//   job    JobEvent        a job appeared or changed state (queued, running, ended) or outcome; its end comes after its boots
//   stage  StageEvent      a stage marker arrived on a running job's console (live, before the boot report)
//   boot   BootEvent       a boot's report was stored (its outcome and stages as the agent measured them)
//   end    RunEvent        the run ended (then the stream closes)

/// <summary>A run's headline (the <c>run</c> and <c>end</c> events).</summary>
public sealed record RunEvent(Guid RunId, string Repository, string? Branch, string Commit, string Pipeline, Outcome Outcome, string? Detail);

/// <summary>A job appeared or changed.</summary>
public sealed record JobEvent(Guid JobId, string Variant, string Machine, int Attempt, string State, Outcome Outcome, string? Detail);

/// <summary>A stage marker read live from a job's console.</summary>
public sealed record StageEvent(Guid JobId, int Boot, string Stage, DateTimeOffset HostTime);

/// <summary>A boot's report was stored.</summary>
public sealed record BootEvent(Guid JobId, int Boot, Outcome Outcome, string? Detail, IReadOnlyList<StageReport> Stages);

/// <summary>GET /api/jobs/{id}/state: a job's state (queued, running, ended), outcome and console lines stored.</summary>
public sealed record JobStateView(Guid JobId, Guid RunId, string State, Outcome Outcome, long ConsoleLines);
