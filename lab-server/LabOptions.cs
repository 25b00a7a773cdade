namespace Redox.Lab.Server;

/// <summary>The <c>Lab</c> configuration section.</summary>
public sealed class LabOptions
{
    public const string Section = "Lab";

    /// <summary>The secret an agent presents once to enrol; enrolment is refused while it is empty.</summary>
    public string? EnrolmentSecret { get; set; }

    /// <summary>A file holding the enrolment secret (mode 600, systemd's LoadCredential, a compose secret); wins over <see cref="EnrolmentSecret"/>.</summary>
    public string? EnrolmentSecretFile { get; set; }

    /// <summary>Where the server keeps its git mirrors.</summary>
    public string DataDir { get; set; } = "./.lab/server";

    /// <summary>A job not heartbeated for this long is failed as agent-lost.</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>Hangfire workers (queues <c>runs</c> and <c>default</c>).</summary>
    public int Workers { get; set; } = 2;

    /// <summary>
    /// A Hangfire job fetched by a server that stopped heartbeating it (killed, lost its database) is fetched again by
    /// another server after this long. A live server's job stays its own however long it runs: Hangfire.PostgreSql's
    /// sliding invisibility renews it every fifth of this. Hangfire's default, without sliding, is 30 minutes.
    /// </summary>
    public int JobInvisibilitySeconds { get; set; } = 60;

    public TimeSpan JobInvisibility => TimeSpan.FromSeconds(Math.Max(5, JobInvisibilitySeconds));

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    /// <summary>
    /// A lease sweep that finds the previous one longer ago than this (the lab was down) restarts the running
    /// jobs' leases instead of failing them as agent-lost (Jobs/LeaseSweeps.cs).
    /// </summary>
    public int SweepGapSeconds { get; set; } = 60;

    /// <summary>Who sees the dashboard: <c>Lab:Dashboard:Access</c>.</summary>
    public DashboardAccessOptions Dashboard { get; set; } = new();

    /// <summary>
    /// An agent not heard from for this long is offline: its machines get no new jobs and show offline.
    /// An idle agent long-polls at least every 30 s and a busy one heartbeats every LeaseSeconds/3.
    /// </summary>
    public int AgentOfflineSeconds { get; set; } = 120;

    /// <summary>
    /// A queued job expires (infra-error, not retried) when no agent able to run it has been seen for this
    /// long: its machine's agent is offline, or no longer lists the machine (Jobs/ExpireQueuedJobsJob).
    /// </summary>
    public int QueuedJobExpirySeconds { get; set; } = 600;

    public TimeSpan AgentOffline => TimeSpan.FromSeconds(AgentOfflineSeconds);

    public TimeSpan QueuedJobExpiry => TimeSpan.FromSeconds(QueuedJobExpirySeconds);

    /// <summary>Bounds on reading pushed repositories: <c>Lab:Git</c>.</summary>
    public GitOptions Git { get; set; } = new();

    /// <summary>What the server accepts from agents and kernels: <c>Lab:Limits</c>.</summary>
    public LimitsOptions Limits { get; set; } = new();
}

/// <summary>
/// The <c>Lab:Limits</c> section: what the server stores of what agents and kernels send. What goes past a
/// limit is cut or dropped, counted, and said in the stored text (never silently lost), and judged as the
/// kernel's fault (a flood is the kernel's doing), never as an infrastructure error.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Longest console line stored, in UTF-8 bytes (the agent already cuts at 4096; PROTOCOL.md).</summary>
    public int ConsoleLineBytes { get; set; } = 4096;

    /// <summary>Console lines stored per job (build output and every boot).</summary>
    public long ConsoleLinesPerJob { get; set; } = 1_000_000;

    /// <summary>Console text stored per job, in UTF-8 bytes.</summary>
    public long ConsoleBytesPerJob { get; set; } = 64L * 1024 * 1024;

    /// <summary>Console lines stored per boot (and for the build output): one boot's flood leaves the next boots their console.</summary>
    public long ConsoleLinesPerBoot { get; set; } = 500_000;

    /// <summary>Console text stored per boot (and for the build output), in UTF-8 bytes.</summary>
    public long ConsoleBytesPerBoot { get; set; } = 32L * 1024 * 1024;

    /// <summary>Boot stages stored per boot.</summary>
    public int StagesPerBoot { get; set; } = 1_000;

    /// <summary>Test results stored per boot.</summary>
    public int TestsPerBoot { get; set; } = 10_000;

    /// <summary>Metrics stored per boot.</summary>
    public int MetricsPerBoot { get; set; } = 10_000;

    /// <summary>Findings stored per boot.</summary>
    public int FindingsPerBoot { get; set; } = 1_000;

    /// <summary>Machines one agent may register.</summary>
    public int MachinesPerAgent { get; set; } = 64;

    /// <summary>Largest build artifact, in bytes (streamed to disk, never held in memory).</summary>
    public long ArtifactBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>
/// The <c>Lab:Git</c> section: how long and how many git processes may run for pushes. Git runs only in the
/// background (Runs/ResolvePushJob on its own Hangfire queue), never on a request.
/// </summary>
public sealed class GitOptions
{
    /// <summary>One git process (a fetch, a clone) is killed after this long.</summary>
    public int ProcessTimeoutSeconds { get; set; } = 60;

    /// <summary>All attempts at reading one push (fetch retries included) give up after this long; the run ends as <c>error</c>.</summary>
    public int TotalTimeoutSeconds { get; set; } = 150;

    /// <summary>Pushes resolved at once per server: the workers of the Hangfire queue <c>git</c>. A dead remote holds at most these.</summary>
    public int Concurrency { get; set; } = 2;

    public TimeSpan ProcessTimeout => TimeSpan.FromSeconds(Math.Max(1, ProcessTimeoutSeconds));

    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(Math.Max(ProcessTimeoutSeconds, TotalTimeoutSeconds));
}

/// <summary>The <c>Lab:Dashboard</c> section.</summary>
public sealed class DashboardAccessOptions
{
    public const string Login = "login";
    public const string Public = "public";

    /// <summary>
    /// <c>login</c> (default): every page and API read needs a token or a session opened at /login.
    /// <c>public</c>: GET and HEAD are open to everyone (read-only); writes, admin routes, repository
    /// locations and /hangfire still need a token or session.
    /// </summary>
    public string Access { get; set; } = Login;

    public bool IsPublic => string.Equals(Access, Public, StringComparison.OrdinalIgnoreCase);
}
