using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Pages.Run;

namespace Redox.Lab.Dashboard.Pages.Console;

/// <summary>A job's console (<c>/jobs/{id}/console</c>), a page at a time. Implemented by lab-server's <c>Dashboard/ConsoleQuery</c>.</summary>
public interface IConsoleQuery
{
    /// <summary>Null when there is no such job.</summary>
    Task<ConsoleModel?> GetAsync(ConsoleRequest request, CancellationToken ct);

    /// <summary>Every line of the job as text, in order (the raw download); null when there is no such job.</summary>
    Task<IAsyncEnumerable<string>?> ReadAllAsync(Guid jobId, CancellationToken ct);
}

/// <param name="From">First line of the page (job-wide, 0-based).</param>
/// <param name="Search">Case-insensitive text to find in the whole console.</param>
public sealed record ConsoleRequest(Guid JobId, long From, int Count, string? Search);

/// <summary>A line worth jumping to: one that failed the boot, a finding, or a search hit.</summary>
public sealed record ConsoleMark(long LineNo, int Boot, LineKind Kind, string Text);

public sealed record ConsoleModel(
    Guid JobId, Guid RunId, string Commit, string MachineName, string Variant, Outcome Outcome, string? Detail,
    long TotalLines, long From, IReadOnlyList<NumberedLine> Lines,
    IReadOnlyDictionary<int, DateTimeOffset> BootStarts, DateTimeOffset? BuildStart,
    IReadOnlyList<string> PanicRegexes,
    IReadOnlyList<ConsoleMark> Marks,
    IReadOnlyList<ConsoleMark> Hits, bool MoreHits);
