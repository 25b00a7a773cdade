using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Data;

// The lab's tables. Column names are snake_case (see LabDbContext); outcomes are stored by their
// kebab names (OutcomeNames), so the database reads well in psql.

/// <summary>A registered repository (Repositories/): only these can be pushed.</summary>
public sealed class RepositoryRow
{
    public Guid Id { get; set; }
    /// <summary>Short name ([A-Za-z0-9._-]); what runs show instead of the location.</summary>
    public string Name { get; set; } = "";
    /// <summary>Where the server and the agents clone from; shown only to developers and admins.</summary>
    public required string Url { get; set; }
    /// <summary>For an untrusted repository the pipeline (the build recipe) is read from this branch, never from the push.</summary>
    public string DefaultBranch { get; set; } = "main";
    /// <summary>The pipeline files a push may name.</summary>
    public List<string> PipelineFiles { get; set; } = [];
    /// <summary>Trusted: the pushed commit's own pipeline is used, and its build may have network if the pipeline asks.</summary>
    public bool Trusted { get; set; }
    /// <summary>User names that may push (developers); <c>*</c> for every developer. Admins always may.</summary>
    public List<string> Pushers { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class RunRow
{
    public Guid Id { get; set; }
    public Guid RepositoryId { get; set; }
    public RepositoryRow Repository { get; set; } = null!;
    public string? Branch { get; set; }
    public required string Commit { get; set; }
    public required string PipelinePath { get; set; }
    public required string PipelineYaml { get; set; }
    public Outcome Outcome { get; set; }
    public string? Detail { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    /// <summary>The user who pushed (null for runs made before users existed, or a deleted user).</summary>
    public Guid? PushedBy { get; set; }
    public List<JobRow> Jobs { get; set; } = [];

    // Judging (Verdicts/): why the run exists, what it is compared with, and when it was judged.
    /// <summary><see cref="RunKinds"/>: a push, or boots the lab scheduled itself for a verdict.</summary>
    public string Kind { get; set; } = RunKinds.Push;
    /// <summary>The run whose verdict asked for this one (baseline, extra, bisection and calibration runs).</summary>
    public Guid? ParentRunId { get; set; }
    /// <summary>Jobs only on this machine (lab-scheduled runs); null: every matching machine.</summary>
    public Guid? OnlyMachineId { get; set; }
    /// <summary>Jobs only of this variant; null: every variant.</summary>
    public string? OnlyVariant { get; set; }
    /// <summary>Boots per job instead of the pipeline's boot.count; null: the pipeline's.</summary>
    public int? BootCount { get; set; }
    /// <summary>The commit this run is judged against; null: none (the first tested commit).</summary>
    public string? BaselineCommit { get; set; }
    /// <summary>Why that commit (<c>merge base of topic with main</c>, <c>previous tested commit on main</c>).</summary>
    public string? BaselineReason { get; set; }
    /// <summary>When the judge last finished with this run; null: to be judged (JudgeEndedRunsJob).</summary>
    public DateTimeOffset? JudgedAt { get; set; }
    /// <summary>
    /// A push recorded but not yet read from git (Runs/ResolvePushJob): <see cref="Commit"/> is the pushed id or empty,
    /// <see cref="PipelineYaml"/> empty. False for every other run.
    /// </summary>
    public bool Resolving { get; set; }

    // Cancel (Runs/RunCancellation): who cancelled the run and when; null: not cancelled.
    public DateTimeOffset? CancelledAt { get; set; }
    public Guid? CancelledBy { get; set; }
}

/// <summary>Why a run exists.</summary>
public static class RunKinds
{
    public const string Push = "push";
    public const string Baseline = "baseline";
    public const string Extra = "extra";
    public const string Bisect = "bisect";
    public const string Calibration = "calibration";
}

/// <summary>Where a job is in its life: queued, running (claimed by an agent, leased), ended.</summary>
public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Ended = "ended";
}

public sealed class JobRow
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public RunRow Run { get; set; } = null!;
    public required string Variant { get; set; }
    public Guid MachineId { get; set; }
    public MachineRow Machine { get; set; } = null!;
    /// <summary>1 for the run's first job of this variant and machine; an infrastructure failure queues attempt + 1 (JobRetries).</summary>
    public int Attempt { get; set; } = 1;
    /// <summary>The agent that claimed the job (null while queued).</summary>
    public Guid? AgentId { get; set; }
    public AgentRow? Agent { get; set; }
    public string State { get; set; } = JobStates.Queued;
    public Outcome Outcome { get; set; }
    public string? Detail { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? AssignedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    /// <summary>How many console lines are stored: the next offset the agent must send.</summary>
    public long ConsoleCount { get; set; }
    /// <summary>UTF-8 bytes of console text stored (Jobs/ConsoleLimits caps it per job).</summary>
    public long ConsoleBytes { get; set; }
    /// <summary>Console lines received past the job's caps: counted (and acknowledged), not stored.</summary>
    public long ConsoleDropped { get; set; }
    /// <summary>A user cancelled the job while it ran: the agent learns it from its heartbeat (Runs/RunCancellation).</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }
    public List<BootRow> Boots { get; set; } = [];
}

public sealed class AgentRow
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>SHA-256 of the bearer token; the token itself is never stored.</summary>
    public required byte[] TokenHash { get; set; }
    public string? Version { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastSeen { get; set; }
    public List<MachineRow> Machines { get; set; } = [];
}

public sealed class MachineRow
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public AgentRow Agent { get; set; } = null!;
    public required string Name { get; set; }
    public required string Driver { get; set; }
    public List<string> Tags { get; set; } = [];
    public int Cpus { get; set; }
    public int MemoryMiB { get; set; }
    /// <summary>False once the agent stopped listing it; kept because jobs refer to it.</summary>
    public bool Active { get; set; } = true;
    /// <summary>LAVA's health (Contracts MachineHealth); history in <see cref="Machines.MachineHealthEventRow"/>.</summary>
    public string Health { get; set; } = "unknown";
    public string? HealthReason { get; set; }
    public DateTimeOffset? HealthSince { get; set; }
    /// <summary>A health check must pass before the machine takes jobs again.</summary>
    public bool HealthCheckRequested { get; set; }
    /// <summary>The fingerprint or the reference metric changed: results across the change are not comparable.</summary>
    public bool Drifted { get; set; }
    /// <summary>The last fingerprint reported (cpu, microcode, firmware, memory, tsc_mhz) as a JSON object (jsonb).</summary>
    public string? Fingerprint { get; set; }
    /// <summary>When the machine last drifted: boots before it are not compared with boots after it (Machines/HEALTH.md).</summary>
    public DateTimeOffset? ComparableSince { get; set; }
}

public sealed class BootRow
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int Index { get; set; }
    public Outcome Outcome { get; set; }
    public string? Detail { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset EndedAt { get; set; }
    public long? TscHz { get; set; }
    public int CorruptMarkers { get; set; }
    public ProfileRow? Profile { get; set; }
    public List<BootStageRow> Stages { get; set; } = [];
    public List<MetricRow> Metrics { get; set; } = [];
    public List<TestResultRow> Tests { get; set; } = [];
    public List<FindingRow> Findings { get; set; } = [];
}

public sealed class BootStageRow
{
    public long Id { get; set; }
    public Guid BootId { get; set; }
    public required string Name { get; set; }
    public required string Source { get; set; }
    public long? KernelNs { get; set; }
    public long HostNs { get; set; }
    public int Ordinal { get; set; }
}

public sealed class MetricRow
{
    public long Id { get; set; }
    public Guid BootId { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }
    public required string Unit { get; set; }
    public long Samples { get; set; }
    public required string Stat { get; set; }
}

public sealed class TestResultRow
{
    public long Id { get; set; }
    public Guid BootId { get; set; }
    public required string Name { get; set; }
    public required string Result { get; set; }
    public string? Detail { get; set; }
}

public sealed class FindingRow
{
    public long Id { get; set; }
    public Guid BootId { get; set; }
    public required string Kind { get; set; }
    /// <summary>The marker's keys and values as a JSON object (jsonb).</summary>
    public required string Fields { get; set; }
    public long Line { get; set; }
    /// <summary>Kind plus top symbolized frames (Findings/FindingSignatures); null until the run is judged.</summary>
    public string? Signature { get; set; }
    /// <summary>The bug this finding belongs to (Findings/BugTracker); null until the run is judged.</summary>
    public Guid? BugId { get; set; }
}

public sealed class ConsoleLineRow
{
    public Guid JobId { get; set; }
    public long LineNo { get; set; }
    public int Boot { get; set; }
    public DateTimeOffset HostTime { get; set; }
    public required string Text { get; set; }
}

/// <summary>A boot's profile: the perf-script text as the kernel printed it and its folded stacks.</summary>
public sealed class ProfileRow
{
    public Guid BootId { get; set; }
    /// <summary>perf-script text: a header line per sample, then its frames innermost first, a blank line between samples.</summary>
    public required string Raw { get; set; }
    /// <summary>One line per unique stack, <c>root;...;leaf count</c> (the flamegraph input format).</summary>
    public required string Folded { get; set; }
    public int Samples { get; set; }
    /// <summary>True when <see cref="Folded"/> names frames from the job's kernel.elf; false: hex addresses.</summary>
    public bool Symbolized { get; set; }
}

/// <summary>A file the job's build produced (e.g. kernel.elf), as the agent uploaded it.</summary>
public sealed class ArtifactRow
{
    public Guid JobId { get; set; }
    public required string Name { get; set; }
    public long Size { get; set; }
    /// <summary>Lower-case hex SHA-256 of the content.</summary>
    public required string Sha256 { get; set; }
    /// <summary>The content of an artifact stored before artifacts moved to disk; null: the file named by
    /// <see cref="Sha256"/> in the artifact store's directory (Artifacts/ArtifactFiles).</summary>
    public byte[]? Content { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
