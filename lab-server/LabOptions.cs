namespace Redox.Lab.Server;

/// <summary>The <c>Lab</c> configuration section.</summary>
public sealed class LabOptions
{
    public const string Section = "Lab";

    /// <summary>The secret an agent presents once to enrol; enrolment is refused while it is empty.</summary>
    public string? EnrolmentSecret { get; set; }

    /// <summary>Where the server keeps its git mirrors.</summary>
    public string DataDir { get; set; } = "./.lab/server";

    /// <summary>A job not heartbeated for this long is failed as agent-lost.</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>Hangfire workers (queues <c>runs</c> and <c>default</c>).</summary>
    public int Workers { get; set; } = 2;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
}
