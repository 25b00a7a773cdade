using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Dashboard;
using Redox.Lab.Dashboard.Pages.Run;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Dashboard;

/// <summary>
/// One run as the API reads it (<see cref="RunQueries.GetRunAsync"/>), plus what the page adds: the
/// pipeline's expected stages, and for each boot that did not pass the console around the line that failed it.
/// </summary>
public sealed class RunQuery(LabDbContext db, RunQueries runs, ConsoleStorage.ConsoleArchive archive) : IRunQuery
{
    /// <summary>Lines shown before and after the failing line.</summary>
    public const int Context = 15;

    /// <summary>Candidate lines read per boot when looking for the failing one.</summary>
    private const int Candidates = 200;

    public async Task<RunModel?> GetAsync(Guid id, CancellationToken ct)
    {
        var run = await runs.GetRunAsync(id, ct);
        if (run is null) return null;
        var yaml = await db.Runs.AsNoTracking().Where(r => r.Id == id).Select(r => r.PipelineYaml).FirstAsync(ct);
        var (stages, panics) = ReadPipeline(yaml);
        var marks = new ConsoleMarks(panics);

        var jobIds = run.Jobs.Select(j => j.Id).ToList();
        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => jobIds.Contains(j.Id))
            .Select(j => new { j.Id, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name, j.ConsoleCount })
            .ToDictionaryAsync(j => j.Id, ct);

        var models = new List<JobModel>(run.Jobs.Count);
        foreach (var job in run.Jobs)
        {
            var boots = new List<BootModel>(job.Boots.Count);
            foreach (var boot in job.Boots)
            {
                var excerpt = boot.Outcome is Outcome.Passed or Outcome.Pending ? null : await ExcerptAsync(job.Id, boot, marks, ct);
                boots.Add(new BootModel(boot, excerpt));
            }
            var row = jobs[job.Id];
            models.Add(new JobModel(job, row.Machine, row.ConsoleCount, boots));
        }
        var imports = await db.Set<ImportedProfileRow>().AsNoTracking().Where(p => p.RunId == id)
            .OrderBy(p => p.CreatedAt).ThenBy(p => p.Id)
            .Select(p => new { p.Id, p.Name, p.Samples }).ToListAsync(ct);
        return new RunModel(run, stages, panics, models, [.. imports.Select(p => new ImportedProfileLink(p.Name, $"import:{p.Id}", p.Samples))]);
    }

    /// <summary>The stage names and panic regexes of the run's pipeline (as the server validated it at push).</summary>
    internal static (IReadOnlyList<string> Stages, IReadOnlyList<string> Panics) ReadPipeline(string yaml)
    {
        try
        {
            var pipeline = PipelineLoader.Load(yaml);
            return (pipeline.Stages.Select(s => s.Name).ToList(), pipeline.Console.Panic);
        }
        catch (PipelineException)
        {
            return ([], []);
        }
    }

    /// <summary>
    /// The line that failed the boot: the first failure line (panic, failed test, failing end), else the
    /// first finding, else (a hang, garbage) the boot's last line; then <see cref="Context"/> lines around it.
    /// </summary>
    private async Task<ConsoleExcerpt?> ExcerptAsync(Guid jobId, BootView boot, ConsoleMarks marks, CancellationToken ct)
    {
        if (await archive.HasChunksAsync(jobId, ct)) return await ArchivedExcerptAsync(jobId, boot, marks, ct);
        var candidates = await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId && l.Boot == boot.Index
                && (l.Text.Contains("@@LAB finding") || l.Text.Contains("@@LAB end ") || l.Text.Contains("result=fail")
                    || EF.Functions.ILike(l.Text, "%panic%")))
            .OrderBy(l => l.LineNo)
            .Take(Candidates)
            .Select(l => new { l.LineNo, l.Text })
            .ToListAsync(ct);
        // The pipeline's panic regexes are .NET regexes: judged here, on lines the kernel printed near the end.
        var tail = await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId && l.Boot == boot.Index)
            .OrderByDescending(l => l.LineNo)
            .Take(Candidates)
            .Select(l => new { l.LineNo, l.Text })
            .ToListAsync(ct);
        if (tail.Count == 0) return null;

        var all = candidates.Concat(tail).DistinctBy(l => l.LineNo).OrderBy(l => l.LineNo).ToList();
        var (line, why) = all.FirstOrDefault(l => marks.Classify(l.Text) == LineKind.Fail) is { } fail ? (fail.LineNo, "failure")
            : boot.Findings.Count > 0 ? (boot.Findings[0].Line, "finding")
            : all.FirstOrDefault(l => marks.Classify(l.Text) == LineKind.Finding) is { } finding ? (finding.LineNo, "finding")
            : (tail[0].LineNo, "last line");

        var lines = await db.ConsoleLines.AsNoTracking()
            .Where(l => l.JobId == jobId && l.LineNo >= line - Context && l.LineNo <= line + Context)
            .OrderBy(l => l.LineNo)
            .Select(l => new NumberedLine(l.LineNo, l.Boot, l.HostTime, l.Text))
            .ToListAsync(ct);
        return new ConsoleExcerpt(line, why, lines);
    }

    /// <summary><see cref="ExcerptAsync"/> for a console packed into compressed chunks: the same choice, in one pass over the boot's lines.</summary>
    private async Task<ConsoleExcerpt?> ArchivedExcerptAsync(Guid jobId, BootView boot, ConsoleMarks marks, CancellationToken ct)
    {
        var candidates = new List<NumberedLine>();
        var tail = new Queue<NumberedLine>();
        await foreach (var l in archive.AllAsync(jobId, boot.Index, ct))
        {
            if (candidates.Count < Candidates && ConsoleQuery.IsMarkCandidate(l.Text)) candidates.Add(l);
            tail.Enqueue(l);
            if (tail.Count > Candidates) tail.Dequeue();
        }
        if (tail.Count == 0) return null;

        var all = candidates.Concat(tail).DistinctBy(l => l.LineNo).OrderBy(l => l.LineNo).ToList();
        var (line, why) = all.FirstOrDefault(l => marks.Classify(l.Text) == LineKind.Fail) is { } fail ? (fail.LineNo, "failure")
            : boot.Findings.Count > 0 ? (boot.Findings[0].Line, "finding")
            : all.FirstOrDefault(l => marks.Classify(l.Text) == LineKind.Finding) is { } finding ? (finding.LineNo, "finding")
            : (tail.Last().LineNo, "last line");
        return new ConsoleExcerpt(line, why, await archive.RangeAsync(jobId, line - Context, 2 * Context + 1, ct));
    }
}
