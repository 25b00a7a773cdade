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

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    /// <summary>
    /// A lease sweep that finds the previous one longer ago than this (the lab was down) restarts the running
    /// jobs' leases instead of failing them as agent-lost (Jobs/LeaseSweeps.cs).
    /// </summary>
    public int SweepGapSeconds { get; set; } = 60;

    /// <summary>Who sees the dashboard: <c>Lab:Dashboard:Access</c>.</summary>
    public DashboardAccessOptions Dashboard { get; set; } = new();

    /// <summary>Bounds on reading pushed repositories: <c>Lab:Git</c>.</summary>
    public GitOptions Git { get; set; } = new();
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
