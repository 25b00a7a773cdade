using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Verdicts;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server.Dashboard;

/// <summary>The verdict pages' reads: the same queries as the API (Verdicts/VerdictQueries).</summary>
public sealed class VerdictsQuery(VerdictQueries queries) : IVerdictsQuery
{
    public Task<RunVerdictsView?> RunAsync(Guid runId, CancellationToken ct) => queries.RunAsync(runId, ct);

    public Task<IReadOnlyList<BugView>> BugsAsync(string? state, int limit, CancellationToken ct) => queries.BugsAsync(state, limit, ct);

    public Task<BugDetailView?> BugAsync(Guid id, CancellationToken ct) => queries.BugAsync(id, 100, ct);

    public Task<IReadOnlyList<RegressionView>> RegressionsAsync(int limit, CancellationToken ct) => queries.RegressionsAsync(limit, ct);

    public Task<CompareView?> CompareAsync(Guid a, Guid b, CancellationToken ct) => queries.CompareAsync(a, b, ct);

    public Task<IReadOnlyList<CalibrationView>> CalibrationsAsync(CancellationToken ct) => queries.CalibrationsAsync(ct);
}
