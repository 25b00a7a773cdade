using Microsoft.EntityFrameworkCore;
using Redox.Lab.Dashboard;
using Redox.Lab.Dashboard.Pages.Console;
using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Server.ConsoleStorage;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// A page of a job's console by its primary key <c>console_lines (job_id, line_no)</c>; the failure lines
/// and search hits of the whole console by a filtered scan of the job's lines (bounded by their count). A console
/// packed into compressed chunks (ConsoleStorage/STORAGE.md) is read through <see cref="ConsoleArchive"/> and
/// filtered in memory, one decompressed chunk at a time.
/// </summary>
public sealed class ConsoleQuery(LabDbContext db, ConsoleArchive archive) : IConsoleQuery
{
    public const int MaxMarks = 100, MaxHits = 500;

    public async Task<ConsoleModel?> GetAsync(ConsoleRequest request, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.Id == request.JobId)
            .Select(j => new
            {
                j.Id, j.RunId, j.Run.Commit, j.Run.PipelineYaml, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name,
                j.Variant, j.Outcome, j.Detail, j.ConsoleCount, j.AssignedAt,
            })
            .FirstOrDefaultAsync(ct);
        if (job is null) return null;
        if (await archive.HasChunksAsync(job.Id, ct))
        {
            var (_, archivedPanics) = RunQuery.ReadPipeline(job.PipelineYaml);
            var (archivedMarks, archivedHits, more) = await ScanArchiveAsync(job.Id, new ConsoleMarks(archivedPanics), request.Search, ct);
            return new ConsoleModel(
                job.Id, job.RunId, job.Commit, job.Machine, job.Variant, job.Outcome, job.Detail,
                job.ConsoleCount, request.From, await archive.RangeAsync(job.Id, request.From, request.Count, ct),
                await BootStartsAsync(job.Id, ct), job.AssignedAt, archivedPanics, archivedMarks, archivedHits, more);
        }

        var lines = await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == job.Id && l.LineNo >= request.From && l.LineNo < request.From + request.Count)
            .OrderBy(l => l.LineNo)
            .Select(l => new NumberedLine(l.LineNo, l.Boot, l.HostTime, l.Text))
            .ToListAsync(ct);
        var boots = await db.Boots.AsNoTracking()
            .Where(b => b.JobId == job.Id)
            .Select(b => new { b.Index, b.StartedAt })
            .ToDictionaryAsync(b => b.Index, b => b.StartedAt, ct);

        var (_, panics) = RunQuery.ReadPipeline(job.PipelineYaml);
        var marks = new ConsoleMarks(panics);
        var candidates = await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == job.Id
                && (l.Text.Contains("@@LAB finding") || l.Text.Contains("@@LAB end ") || l.Text.Contains("result=fail")
                    || EF.Functions.ILike(l.Text, "%panic%")))
            .OrderBy(l => l.LineNo)
            .Take(MaxMarks * 2)
            .Select(l => new { l.LineNo, l.Boot, l.Text })
            .ToListAsync(ct);
        var marked = candidates
            .Select(l => new ConsoleMark(l.LineNo, l.Boot, marks.Classify(l.Text), Shorten(l.Text)))
            .Where(m => m.Kind is LineKind.Fail or LineKind.Finding)
            .Take(MaxMarks)
            .ToList();

        List<ConsoleMark> hits = [];
        if (request.Search is { Length: > 0 } search)
        {
            var pattern = "%" + search.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            hits = (await db.ConsoleLines.AsNoTracking()
                    .Where(l => l.JobId == job.Id && EF.Functions.ILike(l.Text, pattern, "\\"))
                    .OrderBy(l => l.LineNo)
                    .Take(MaxHits + 1)
                    .Select(l => new { l.LineNo, l.Boot, l.Text })
                    .ToListAsync(ct))
                .Select(l => new ConsoleMark(l.LineNo, l.Boot, LineKind.Text, Shorten(l.Text)))
                .ToList();
        }

        return new ConsoleModel(
            job.Id, job.RunId, job.Commit, job.Machine, job.Variant, job.Outcome, job.Detail,
            job.ConsoleCount, request.From, lines, boots, job.AssignedAt, panics,
            marked, hits.Take(MaxHits).ToList(), hits.Count > MaxHits);
    }

    public async Task<IAsyncEnumerable<string>?> ReadAllAsync(Guid jobId, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId, ct)) return null;
        if (await archive.HasChunksAsync(jobId, ct)) return Texts(archive.AllAsync(jobId, null, ct));
        return db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId)
            .OrderBy(l => l.LineNo)
            .Select(l => l.Text)
            .AsAsyncEnumerable();
    }

    private static async IAsyncEnumerable<string> Texts(IAsyncEnumerable<NumberedLine> lines)
    {
        await foreach (var line in lines)
            yield return line.Text;
    }

    private Task<Dictionary<int, DateTimeOffset>> BootStartsAsync(Guid jobId, CancellationToken ct) =>
        db.Boots.AsNoTracking().Where(b => b.JobId == jobId).ToDictionaryAsync(b => b.Index, b => b.StartedAt, ct);

    /// <summary>The same marks and search hits as the SQL path, in one pass over the archived console.</summary>
    private async Task<(List<ConsoleMark> Marks, List<ConsoleMark> Hits, bool More)> ScanArchiveAsync(Guid jobId, ConsoleMarks marks, string? search, CancellationToken ct)
    {
        var candidates = 0;
        List<ConsoleMark> marked = [], hits = [];
        await foreach (var l in archive.AllAsync(jobId, null, ct))
        {
            if (candidates < MaxMarks * 2 && IsMarkCandidate(l.Text))
            {
                candidates++;
                var kind = marks.Classify(l.Text);
                if (kind is LineKind.Fail or LineKind.Finding && marked.Count < MaxMarks)
                    marked.Add(new ConsoleMark(l.LineNo, l.Boot, kind, Shorten(l.Text)));
            }
            if (search is { Length: > 0 } && hits.Count <= MaxHits && l.Text.Contains(search, StringComparison.OrdinalIgnoreCase))
                hits.Add(new ConsoleMark(l.LineNo, l.Boot, LineKind.Text, Shorten(l.Text)));
        }
        return (marked, hits.Take(MaxHits).ToList(), hits.Count > MaxHits);
    }

    /// <summary>The SQL path's candidate filter, for archived lines.</summary>
    internal static bool IsMarkCandidate(string text) =>
        text.Contains("@@LAB finding", StringComparison.Ordinal) || text.Contains("@@LAB end ", StringComparison.Ordinal)
        || text.Contains("result=fail", StringComparison.Ordinal) || text.Contains("panic", StringComparison.OrdinalIgnoreCase);

    private static string Shorten(string text) => text.Length > 160 ? text[..160] + "…" : text;
}
