namespace Redox.Lab.Agent.Machines.Health;

/// <summary>Section <c>Agent:HealthCheck</c>: the known-good boot that tells whether a machine works (README.md beside this file).</summary>
public sealed class HealthCheckOptions
{
    public const string Section = "Agent:HealthCheck";

    /// <summary>A pipeline file whose build (run in the file's directory) yields a known-good kernel; empty: no health checks, machines never wait for one.</summary>
    public string? Pipeline { get; set; }

    /// <summary>The pipeline variant to boot.</summary>
    public string Variant { get; set; } = "default";

    /// <summary>How often each machine is checked when nothing else asks for it.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the agent looks whether a check is due (and asks the server for on-demand ones).</summary>
    public TimeSpan Poll { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Check every machine when the agent starts (the first of the periodic checks); false: the first comes after <see cref="Interval"/>.</summary>
    public bool AtStart { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Pipeline);
}
