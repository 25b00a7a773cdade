namespace Redox.Lab.Contracts.Api;

// Wire types of the agent <-> server protocol. The routes and their semantics are in API.md beside this file.
// JSON uses camelCase names (System.Text.Json web defaults) and enums as their names (camelCase strings).

/// <summary>A machine an agent can boot kernels on.</summary>
/// <param name="Name">Unique within the agent, e.g. <c>qemu-0</c>.</param>
/// <param name="Driver">The driver kind: <c>qemu</c>, later <c>pxe</c>.</param>
/// <param name="Tags">What pipelines can ask for (<c>qemu</c>, <c>x86_64</c>, <c>smp</c>...).</param>
/// <param name="Cpus">CPUs (for QEMU: the default <c>-smp</c>; a pipeline may ask for another count).</param>
/// <param name="MemoryMiB">Memory in MiB (for QEMU: the default <c>-m</c>).</param>
public sealed record MachineInfo(string Name, string Driver, IReadOnlyList<string> Tags, int Cpus, int MemoryMiB);

/// <summary>POST /api/agents/enrol: an agent presents the lab's enrolment secret once.</summary>
public sealed record EnrolRequest(string Name, string Secret, IReadOnlyList<MachineInfo> Machines, string? Version = null);

/// <summary>The agent's own token; the server keeps only its SHA-256.</summary>
public sealed record EnrolResponse(Guid AgentId, string Token);

/// <summary>PUT /api/agent/machines: the agent's current machines (after a restart or a config change).</summary>
public sealed record MachinesUpdate(IReadOnlyList<MachineInfo> Machines);

/// <summary>GET /api/agent/jobs/next: one job for one of the agent's machines.</summary>
/// <param name="JobId">The job.</param>
/// <param name="RunId">The run it belongs to.</param>
/// <param name="Repository">A git URL or local path the agent can clone.</param>
/// <param name="Commit">The full commit id to check out.</param>
/// <param name="PipelinePath">The pipeline file's path inside the repository.</param>
/// <param name="PipelineYaml">The pipeline file's text at that commit, as the server validated it.</param>
/// <param name="Variant">The pipeline variant this job builds and boots (<c>default</c> without variants).</param>
/// <param name="MachineName">Which of the agent's machines to boot on.</param>
/// <param name="LeaseSeconds">Heartbeat at least this often, or the job is failed as agent-lost.</param>
/// <param name="BootCount">Boots to run instead of the pipeline's <c>boot.count</c> (the lab's extra, baseline,
/// bisection and calibration boots); null: the pipeline's.</param>
/// <param name="Trusted">The repository is registered trusted: its build may have the network when the pipeline asks (<c>build.network</c>).</param>
/// <param name="Limits">What the server stores of a boot report (its published limits): the agent cuts its reports to
/// fit them and says what it cut (<see cref="BootReport.Cut"/>). Null from an older server: <see cref="ReportLimits.Default"/>.</param>
public sealed record JobAssignment(
    Guid JobId,
    Guid RunId,
    string Repository,
    string Commit,
    string PipelinePath,
    string PipelineYaml,
    string Variant,
    string MachineName,
    int LeaseSeconds,
    int? BootCount = null,
    bool Trusted = false,
    ReportLimits? Limits = null);

/// <summary>
/// The server's limits on one boot report (API.md, "Limits every route keeps"), published in every
/// <see cref="JobAssignment"/> so the agent sends reports that fit instead of reports the server refuses.
/// </summary>
/// <param name="ReportBytes">Largest request body of <c>POST .../boots/{index}</c> (JSON, UTF-8 bytes); past it: <c>413</c>.</param>
/// <param name="StagesPerBoot">Stages stored per boot.</param>
/// <param name="TestsPerBoot">Test results stored per boot.</param>
/// <param name="MetricsPerBoot">Metrics stored per boot.</param>
/// <param name="FindingsPerBoot">Findings stored per boot.</param>
/// <param name="TextChars">Longest name, unit, result or detail stored (characters).</param>
public sealed record ReportLimits(long ReportBytes, int StagesPerBoot, int TestsPerBoot, int MetricsPerBoot, int FindingsPerBoot, int TextChars)
{
    /// <summary>The server's defaults (<c>Lab:Limits</c>).</summary>
    public static ReportLimits Default { get; } = new(32L * 1024 * 1024, 1_000, 10_000, 10_000, 1_000, 4096);
}

/// <summary>
/// What the agent left out of a boot report to keep it within the server's <see cref="ReportLimits"/>: counts of the
/// items not sent and the characters of profile not sent. The server records it in the boot's detail and judges a
/// boot that had to be cut as the kernel's fault (a flood), like a cut it makes itself.
/// </summary>
public sealed record ReportCut(int Stages = 0, int Tests = 0, int Metrics = 0, int Findings = 0, long ProfileChars = 0)
{
    public bool Any => Stages > 0 || Tests > 0 || Metrics > 0 || Findings > 0 || ProfileChars > 0;

    public bool Valid => Stages >= 0 && Tests >= 0 && Metrics >= 0 && Findings >= 0 && ProfileChars >= 0;

    /// <summary>"12 tests, 3 findings and 40000 profile characters", for the boot's detail.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Stages > 0) parts.Add($"{Stages} stages");
        if (Tests > 0) parts.Add($"{Tests} tests");
        if (Metrics > 0) parts.Add($"{Metrics} metrics");
        if (Findings > 0) parts.Add($"{Findings} findings");
        if (ProfileChars > 0) parts.Add($"{ProfileChars} profile characters");
        return parts.Count <= 1 ? string.Concat(parts) : string.Join(", ", parts[..^1]) + " and " + parts[^1];
    }
}

/// <summary>Answer to POST /api/agent/jobs/{id}/heartbeat.</summary>
/// <param name="Continue">False when the job was cancelled or already failed (agent-lost): stop working on it.</param>
/// <param name="Cancel">True when a user cancelled the job: power the machine off, send the console, and complete
/// the job (the server records it as <c>cancelled</c>).</param>
public sealed record HeartbeatResponse(bool Continue, bool Cancel = false);

/// <summary>One console line as the agent received it.</summary>
/// <param name="Boot">Boot index within the job (0-based); -1 for build output.</param>
/// <param name="HostTime">UTC time the line's last byte arrived at the agent.</param>
/// <param name="Text">The line without its newline (non-UTF-8 bytes as U+FFFD).</param>
public sealed record ConsoleLine(int Boot, DateTimeOffset HostTime, string Text);

/// <summary>POST /api/agent/jobs/{id}/console: lines from index <paramref name="Offset"/> on (0-based, per job).</summary>
public sealed record ConsoleChunk(long Offset, IReadOnlyList<ConsoleLine> Lines);

/// <summary>How many console lines the server holds for the job: the next offset to send.</summary>
public sealed record ConsoleAck(long NextOffset);

/// <summary>A boot stage as measured.</summary>
/// <param name="Name">Stage name from the pipeline (or the marker when the pipeline names none).</param>
/// <param name="Source"><c>marker</c> or <c>regex</c>.</param>
/// <param name="KernelNs">Kernel time since the kernel's TSC base, when the kernel announced its TSC.</param>
/// <param name="HostNs">Host time since the machine was powered on (the boot's start).</param>
public sealed record StageReport(string Name, string Source, long? KernelNs, long HostNs);

/// <summary>A metric marker.</summary>
public sealed record MetricReport(string Name, double Value, string Unit, long Samples, string Stat);

/// <summary>A test marker.</summary>
public sealed record TestReport(string Name, string Result, string? Detail);

/// <summary>A finding marker: a correctness problem the kernel detected.</summary>
/// <param name="Kind">e.g. <c>double-free</c>, <c>page-fault</c>.</param>
/// <param name="Fields">All the marker's keys and values (decoded), including <c>bt</c> when present.</param>
/// <param name="Line">Console line index (per job) of the marker.</param>
public sealed record FindingReport(string Kind, IReadOnlyDictionary<string, string> Fields, long Line);

/// <summary>POST /api/agent/jobs/{id}/boots/{index}: the measured result of one boot (idempotent by index).</summary>
/// <remarks><c>Cut</c>: what the agent left out to fit the server's <see cref="ReportLimits"/> (null: nothing).</remarks>
public sealed record BootReport(
    int Index,
    Outcome Outcome,
    string? Detail,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    long? TscHz,
    IReadOnlyList<StageReport> Stages,
    IReadOnlyList<MetricReport> Metrics,
    IReadOnlyList<TestReport> Tests,
    IReadOnlyList<FindingReport> Findings,
    int CorruptMarkers,
    string? Profile = null,
    IReadOnlyDictionary<string, string>? Fingerprint = null,
    ReportCut? Cut = null);

/// <summary>POST /api/agent/jobs/{id}/complete: the job's end (idempotent).</summary>
public sealed record JobCompletion(Outcome Outcome, string? Detail);

/// <summary>POST /api/runs: "push a branch".</summary>
/// <param name="Repository">A git URL or a path on the server's machine.</param>
/// <param name="Branch">Branch to resolve to a commit (when <paramref name="Commit"/> is null).</param>
/// <param name="Commit">A commit id (full or abbreviated) to test as is.</param>
/// <param name="Pipeline">The pipeline file's path in the repository.</param>
public sealed record PushRequest(string Repository, string? Branch = null, string? Commit = null, string Pipeline = "pipelines/redox-reference.yaml");

/// <summary>The run created for a push, answered before git is read.</summary>
/// <remarks><c>Commit</c> is the pushed commit id when the push named a full one (40 or 64 hex digits), otherwise null:
/// the branch (or abbreviated id) is resolved in the background, and <c>GET /api/runs/{id}</c> shows the commit once it
/// is (or outcome <c>error</c> with the reason).</remarks>
public sealed record PushResponse(Guid RunId, string? Commit, string Url);

/// <summary>An API error (RFC 7807 problem details carry the same).</summary>
public sealed record ApiError(string Error, string? Detail = null);
