using Microsoft.EntityFrameworkCore;
using Redox.Lab.Dashboard;
using Redox.Lab.Dashboard.Pages.Console;
using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// A page of a job's console by its primary key <c>console_lines (job_id, line_no)</c>; the failure lines
/// and search hits of the whole console by a filtered scan of the job's lines (bounded by their count).
/// </summary>
public sealed class ConsoleQuery(LabDbContext db) : IConsoleQuery
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
        return db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId)
            .OrderBy(l => l.LineNo)
            .Select(l => l.Text)
            .AsAsyncEnumerable();
    }

    private static string Shorten(string text) => text.Length > 160 ? text[..160] + "…" : text;
}
