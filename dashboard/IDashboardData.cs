using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard;

/// <summary>What the dashboard reads; the hosting server implements it over its database.</summary>
public interface IDashboardData
{
    /// <summary>Runs, newest first.</summary>
    Task<IReadOnlyList<RunSummary>> ListRunsAsync(int limit, CancellationToken ct);

    /// <summary>One run with everything measured; null when there is no such run.</summary>
    Task<RunView?> GetRunAsync(Guid id, CancellationToken ct);

    /// <summary>A job's console lines from <paramref name="from"/>; null when there is no such job.</summary>
    Task<IReadOnlyList<ConsoleLine>?> GetConsoleAsync(Guid jobId, long from, int limit, CancellationToken ct);

    /// <summary>
    /// Times of the passed boots of the last <paramref name="runs"/> runs of one pipeline, oldest first, for the
    /// boot-time chart. Failed boots are left out: a panic's time to its last stage is not a boot time.
    /// </summary>
    Task<IReadOnlyList<BootTimePoint>> GetBootTimesAsync(string pipeline, int runs, CancellationToken ct);
}

/// <summary>One boot's time to its last stage.</summary>
/// <param name="Series">The machine (and variant, when not <c>default</c>) the boot ran on.</param>
/// <param name="HostMs">Host time of the boot's last stage.</param>
/// <param name="KernelMs">Kernel time of the boot's last stage, when the kernel reported its TSC.</param>
public sealed record BootTimePoint(Guid RunId, string Commit, DateTimeOffset RunCreatedAt, string Series, double HostMs, double? KernelMs);
