namespace Redox.Lab.Server.Forges;

/// <summary>The <c>Lab:Forges</c> configuration section.</summary>
public sealed class ForgeOptions
{
    public const string Section = "Lab:Forges";

    /// <summary>The lab's URL as people reach it: commit statuses link to <c>{PublicUrl}/runs/{id}</c>.</summary>
    public string PublicUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>How often the server looks for jobs whose commit status moved (seconds).</summary>
    public double SweepSeconds { get; set; } = 2;

    /// <summary>A job's final status waits for the run's verdict at most this long after the job ended (minutes).</summary>
    public double VerdictWaitMinutes { get; set; } = 30;

    /// <summary>Statuses are planned for push runs created within this many days.</summary>
    public int RecentDays { get; set; } = 7;
}
