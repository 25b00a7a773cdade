namespace Redox.Lab.Contracts.Api;

// Read side of the public API (GET /api/runs, /api/runs/{id}, /api/jobs/{id}/console): what the
// dashboard, the push CLI, the benchmarks and the end-to-end tests read.

/// <summary>A run in the run list.</summary>
public sealed record RunSummary(
    Guid Id, string Repository, string? Branch, string Commit, string Pipeline,
    Outcome Outcome, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt, int Jobs);

/// <summary>One run with its jobs and boots.</summary>
public sealed record RunView(
    Guid Id, string Repository, string? Branch, string Commit, string Pipeline,
    Outcome Outcome, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt,
    IReadOnlyList<JobView> Jobs);

/// <summary>A job: one variant on one machine.</summary>
public sealed record JobView(
    Guid Id, string Variant, string Machine, string? Agent,
    Outcome Outcome, string? Detail,
    DateTimeOffset CreatedAt, DateTimeOffset? AssignedAt, DateTimeOffset? EndedAt,
    IReadOnlyList<BootView> Boots);

/// <summary>A boot with what was measured.</summary>
public sealed record BootView(
    int Index, Outcome Outcome, string? Detail,
    DateTimeOffset StartedAt, DateTimeOffset EndedAt, long? TscHz, int CorruptMarkers,
    IReadOnlyList<StageReport> Stages,
    IReadOnlyList<MetricReport> Metrics,
    IReadOnlyList<TestReport> Tests,
    IReadOnlyList<FindingReport> Findings);
