using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>What several dashboard queries share.</summary>
internal static class DashboardOutcomes
{
    /// <summary>The outcomes that are the kernel's fault: what "failed" means in a filter or on the overview.</summary>
    public static readonly Outcome[] KernelFailures = Enum.GetValues<Outcome>().Where(o => o.Kind() == OutcomeKind.Kernel).ToArray();

    /// <summary>
    /// How many of the newest runs the option lists (branches, pipelines) and the overview's branches are
    /// taken from: bounded work on any size of history (a full DISTINCT over runs grows with it); a branch
    /// not pushed within that many runs is not active and drops out of the lists, not out of the data.
    /// </summary>
    public const int RecentRuns = 2000;

    /// <summary><c>agent/machine</c> into its parts (a machine name has no slash; an agent name might).</summary>
    public static (string Agent, string Machine) SplitMachine(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash < 0 ? ("", name) : (name[..slash], name[(slash + 1)..]);
    }

    public static async Task<List<string>> MachineNamesAsync(LabDbContext db, CancellationToken ct) =>
        await db.Machines.AsNoTracking()
            .OrderBy(m => m.Agent.Name).ThenBy(m => m.Name)
            .Select(m => m.Agent.Name + "/" + m.Name)
            .ToListAsync(ct);
}
