using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Machines;
using Redox.Lab.Dashboard.Pages.Runs;

namespace Redox.Lab.Dashboard.Pages.Overview;

/// <summary>The overview (<c>/</c>): what a developer checks first. Implemented by lab-server's <c>Dashboard/OverviewQuery</c>.</summary>
public interface IOverviewQuery
{
    Task<OverviewModel> GetAsync(CancellationToken ct);
}

/// <param name="Branches">The newest run of each repository and branch, newest first.</param>
/// <param name="Machines">Every active machine with what it is doing.</param>
/// <param name="Queued">Jobs waiting for a machine.</param>
/// <param name="Running">Jobs being built or booted.</param>
/// <param name="RecentFailures">The newest runs that failed through the kernel's fault, with their reasons.</param>
public sealed record OverviewModel(
    IReadOnlyList<RunListItem> Branches,
    IReadOnlyList<MachineItem> Machines,
    int Queued, int Running,
    IReadOnlyList<RunListItem> RecentFailures,
    DateTimeOffset? OldestQueuedAt);
