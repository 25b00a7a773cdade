using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard.Pages.Verdicts;

/// <summary>
/// What the verdict pages read: a run's verdicts (on the run page), bugs, regressions with their bisections, compare
/// and calibration. The models are the public API's (lab-contracts/API.md), so a page shows what the API serves.
/// Implemented by lab-server's <c>Dashboard/VerdictsQuery</c>.
/// </summary>
public interface IVerdictsQuery
{
    Task<RunVerdictsView?> RunAsync(Guid runId, CancellationToken ct);

    Task<IReadOnlyList<BugView>> BugsAsync(string? state, int limit, CancellationToken ct);

    Task<BugDetailView?> BugAsync(Guid id, CancellationToken ct);

    Task<IReadOnlyList<RegressionView>> RegressionsAsync(int limit, CancellationToken ct);

    /// <summary>B judged against A (run or job ids); null when either is unknown.</summary>
    Task<CompareView?> CompareAsync(Guid a, Guid b, CancellationToken ct);

    Task<IReadOnlyList<CalibrationView>> CalibrationsAsync(CancellationToken ct);
}

/// <summary>How verdicts read on the pages.</summary>
public static class VerdictFormat
{
    /// <summary>The badge class: regressions red, improvements green, inconclusive amber, the rest grey.</summary>
    public static string Css(string verdict) => verdict switch
    {
        "regression" => "bad",
        "improvement" => "ok",
        "inconclusive" => "infra",
        _ => "pending",
    };

    public static string Percent(double? v) =>
        v is { } d ? d.ToString("+0.0%;-0.0%;0.0%", System.Globalization.CultureInfo.InvariantCulture) : "—";

    public static string Number(double? v) => v is { } d ? Format.Number(d) : "—";

    public static string P(double? p) =>
        p is { } d ? (d < 0.0001 ? "<0.0001" : d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)) : "—";

    /// <summary>What a verdict is about, as a person reads it: <c>syscall.enosys.cycles</c>, <c>stage smp</c>, <c>test leak.check</c>, <c>bug …</c>.</summary>
    public static string What(VerdictView v) => v.Subject switch
    {
        "metric" => v.Name,
        "stage" => "stage " + (v.Name.StartsWith("stage:", StringComparison.Ordinal) ? v.Name[6..] : v.Name),
        "history" => "history " + v.Name,
        _ => $"{v.Subject} {v.Name}",
    };
}
