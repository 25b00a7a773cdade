namespace Redox.Lab.Contracts.Api;

// Read side of the public API (GET /api/runs, /api/runs/{id}, /api/jobs/{id}/console): what the
// dashboard, the push CLI, the benchmarks and the end-to-end tests read.

/// <summary>A run in the run list.</summary>
public sealed record RunSummary(
    Guid Id, string Repository, string? Branch, string Commit, string Pipeline,
    Outcome Outcome, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt, int Jobs,
    string? Detail = null);

/// <summary>One run with its jobs and boots.</summary>
/// <remarks><c>Detail</c> says why a run ended without jobs (e.g. <c>no machine has tags [x86_64, smp]</c>); null otherwise.
/// <c>Kind</c> is <c>push</c>, or why the lab scheduled the run itself (<c>baseline</c>, <c>extra</c>, <c>bisect</c>,
/// <c>calibration</c>); <c>BaselineCommit</c> and <c>BaselineReason</c> say what the run is judged against once the
/// judge has looked at it (verdicts: <c>GET /api/runs/{id}/verdicts</c>). <c>Resolving</c>: a push recorded but not yet
/// read from git (its <c>Commit</c> is the pushed id, or empty for a branch); it becomes false when the commit is
/// resolved and the pipeline read, or the run ends as <c>error</c> with the reason in <c>Detail</c>.</remarks>
public sealed record RunView(
    Guid Id, string Repository, string? Branch, string Commit, string Pipeline,
    Outcome Outcome, DateTimeOffset CreatedAt, DateTimeOffset? EndedAt,
    IReadOnlyList<JobView> Jobs,
    string? Detail = null,
    string Kind = "push",
    string? BaselineCommit = null,
    string? BaselineReason = null,
    bool Resolving = false);

/// <summary>A job: one attempt at one variant on one machine.</summary>
/// <remarks>
/// A job that ends <c>agentLost</c> or <c>infraError</c> is tried again (at most twice) as a new job with the
/// same variant and machine and <c>Attempt</c> + 1; the failed attempt stays in the list with its console.
/// The run's outcome is rolled up from the last attempt of each variant and machine.
/// <c>ConsolePrunedAt</c> and <c>ArtifactsPrunedAt</c> say when retention deleted the job's console or artifacts
/// (an empty console then means pruned, not silent); null while they are kept.
/// </remarks>
public sealed record JobView(
    Guid Id, string Variant, string Machine, string? Agent,
    Outcome Outcome, string? Detail,
    DateTimeOffset CreatedAt, DateTimeOffset? AssignedAt, DateTimeOffset? EndedAt,
    IReadOnlyList<BootView> Boots,
    int Attempt = 1,
    DateTimeOffset? ConsolePrunedAt = null,
    DateTimeOffset? ArtifactsPrunedAt = null);

/// <summary>A boot with what was measured.</summary>
/// <remarks>
/// <c>Findings</c> are as reported; when the job has a <c>kernel.elf</c> artifact, each finding's fields also
/// hold, computed at read time, <c>bt.sym</c> (one <c>symbol+0xoff</c> or <c>?</c> per <c>bt</c> address,
/// comma-separated), <c>rip.sym</c> and <c>insn</c> (the instruction at <c>rip</c>, Intel syntax).
/// <c>Profile</c> summarises the boot's profile when it carried one; null otherwise.
/// </remarks>
public sealed record BootView(
    int Index, Outcome Outcome, string? Detail,
    DateTimeOffset StartedAt, DateTimeOffset EndedAt, long? TscHz, int CorruptMarkers,
    IReadOnlyList<StageReport> Stages,
    IReadOnlyList<MetricReport> Metrics,
    IReadOnlyList<TestReport> Tests,
    IReadOnlyList<FindingReport> Findings,
    ProfileSummary? Profile = null);

/// <summary>A boot's sampling profile, summarised (the stacks are at <c>GET /api/jobs/{id}/boots/{index}/profile</c>).</summary>
/// <param name="Samples">Samples in the profile.</param>
/// <param name="Symbolized">True when frames were named from the job's <c>kernel.elf</c>; false: frames are hex addresses.</param>
/// <param name="TopSelf">The functions with the most samples as the innermost frame, most first.</param>
/// <param name="TopTotal">The functions with the most samples anywhere on the stack, most first.</param>
public sealed record ProfileSummary(int Samples, bool Symbolized, IReadOnlyList<FunctionSamples> TopSelf, IReadOnlyList<FunctionSamples> TopTotal);

/// <summary>One function's samples in a profile.</summary>
/// <param name="Name">Function name, or its address as <c>0x</c> hex when the profile is not symbolized.</param>
/// <param name="Self">Samples with the function as the innermost frame.</param>
/// <param name="Total">Samples with the function anywhere on the stack (counted once per sample).</param>
public sealed record FunctionSamples(string Name, long Self, long Total);

/// <summary>A build artifact an agent stored for a job (<c>GET /api/jobs/{id}/artifacts</c>).</summary>
/// <param name="Name"><c>[a-z0-9._-]+</c>, e.g. <c>kernel.elf</c>.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the content.</param>
/// <param name="CreatedAt">When it was (last) uploaded.</param>
public sealed record ArtifactInfo(string Name, long Size, string Sha256, DateTimeOffset CreatedAt);
