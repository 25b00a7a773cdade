using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard.Pages.Runs;

/// <summary>The runs list (<c>/runs</c>): newest first, filtered, a page at a time by keyset. Implemented by lab-server's <c>Dashboard/RunsQuery</c>.</summary>
public interface IRunsQuery
{
    Task<RunsModel> GetAsync(RunsFilter filter, CancellationToken ct);
}

/// <summary>The list's state, all of it in the URL.</summary>
/// <param name="Repository">Registered repository name, exact (never its location).</param>
/// <param name="Branch">Branch, exact.</param>
/// <param name="Outcome">An outcome name (<c>kernel-panic</c>), or <c>failed</c> for any failure of the kernel.</param>
/// <param name="Machine"><c>agent/machine</c>: runs with a job on it.</param>
/// <param name="Before">Keyset cursor: only runs older than this one (<see cref="RunsCursor"/>).</param>
public sealed record RunsFilter(string? Repository, string? Branch, string? Outcome, string? Machine, string? Before, int Limit = RunsFilter.PageSize)
{
    public const int PageSize = 50;
}

/// <param name="Reason">Why the run ended as it did, in one line (null for a pass).</param>
/// <param name="Machines"><c>agent/machine</c> of its jobs.</param>
public sealed record RunListItem(
    Guid Id, string Repository, string? Branch, string Commit, string Pipeline, Outcome Outcome, string? Reason,
    DateTimeOffset CreatedAt, DateTimeOffset? EndedAt, int Jobs, IReadOnlyList<string> Machines);

/// <param name="Next">Cursor of the next (older) page; null on the last page.</param>
public sealed record RunsModel(
    IReadOnlyList<RunListItem> Runs, string? Next,
    IReadOnlyList<string> Repositories, IReadOnlyList<string> Branches, IReadOnlyList<string> Machines);

/// <summary>The keyset cursor: a run's creation time (UTC ticks) and id, the list's sort key.</summary>
public static class RunsCursor
{
    public static string Of(DateTimeOffset createdAt, Guid id) => $"{createdAt.UtcTicks}.{id:N}";

    public static bool TryParse(string? cursor, out DateTimeOffset createdAt, out Guid id)
    {
        createdAt = default;
        id = default;
        var dot = cursor?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (dot <= 0 || !long.TryParse(cursor![..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks || !Guid.TryParseExact(cursor[(dot + 1)..], "N", out id))
            return false;
        createdAt = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}
