using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Console;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Runs;

/// <summary>
/// <c>GET /api/runs/{id}/events</c>: the run as it happens, as server-sent events (types in lab-contracts/Api/RunEvents.cs).
/// Each stream reads what changed once a second (jobs, boot reports, new console lines of running jobs, whose stage markers
/// become <c>stage</c> events), so it costs a few indexed queries per second per watcher and nothing when nobody watches.
/// <c>lab watch</c> follows it.
/// </summary>
public static class RunEventsApi
{
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public static void MapRunEventsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/runs/{id:guid}/events", Events).WithTags("Runs").WithName("RunEvents");

    public static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> Events(
        Guid id, IServiceScopeFactory scopes, IOptions<JsonOptions> json, TimeProvider clock, CancellationToken ct)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            if (!await scope.ServiceProvider.GetRequiredService<LabDbContext>().Runs.AnyAsync(r => r.Id == id, ct))
                return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no run {id}");
        }
        return TypedResults.ServerSentEvents(StreamAsync(id, scopes, json.Value.SerializerOptions, clock, ct));
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        Guid id, IServiceScopeFactory scopes, JsonSerializerOptions json, TimeProvider clock, [EnumeratorCancellation] CancellationToken ct)
    {
        var jobs = new Dictionary<Guid, string>();
        var boots = new HashSet<(Guid, int)>();
        var console = new Dictionary<Guid, long>();
        var first = true;
        long sequence = 0;
        SseItem<string> Item<T>(string type, T data) => new(JsonSerializer.Serialize(data, json), type) { EventId = (++sequence).ToString(System.Globalization.CultureInfo.InvariantCulture) };

        while (!ct.IsCancellationRequested)
        {
            var items = new List<SseItem<string>>();
            bool ended;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
                var run = await db.Runs.AsNoTracking().Include(r => r.Repository).SingleAsync(r => r.Id == id, ct);
                var headline = new RunEvent(run.Id, run.Repository.Name, run.Branch, run.Commit, run.PipelinePath, run.Outcome, run.Detail);
                if (first) items.Add(Item("run", headline));
                first = false;

                var rows = await db.Jobs.AsNoTracking().Where(j => j.RunId == id).OrderBy(j => j.CreatedAt)
                    .Select(j => new { j.Id, j.Variant, Machine = j.Machine.Agent.Name + "/" + j.Machine.Name, j.Attempt, j.State, j.Outcome, j.Detail, j.ConsoleCount })
                    .ToListAsync(ct);
                // A job that ended is announced after its boots (read below, after the jobs): a watcher reads a boot's result,
                // then the job's, as they happened.
                var endedJobs = new List<JobEvent>();
                foreach (var j in rows)
                {
                    var key = $"{j.State}|{j.Outcome}";
                    if (jobs.GetValueOrDefault(j.Id) != key)
                    {
                        jobs[j.Id] = key;
                        var jobEvent = new JobEvent(j.Id, j.Variant, j.Machine, j.Attempt, j.State, j.Outcome, j.Detail);
                        if (j.State == JobStates.Ended) endedJobs.Add(jobEvent);
                        else items.Add(Item("job", jobEvent));
                    }

                    // Stage markers from the console as they arrive (only lines not yet read; at most 5,000 per poll).
                    var from = console.GetValueOrDefault(j.Id);
                    if (j.ConsoleCount > from)
                    {
                        var lines = await db.ConsoleLines.AsNoTracking().Where(l => l.JobId == j.Id && l.LineNo >= from)
                            .OrderBy(l => l.LineNo).Take(5000).ToListAsync(ct);
                        foreach (var line in lines)
                        {
                            if (line.Text.Contains("@@LAB stage", StringComparison.Ordinal)
                                && ConsoleMarkerParser.Parse(line.Text) is { Status: MarkerParseStatus.Valid, Marker: StageMarker stage })
                                items.Add(Item("stage", new StageEvent(j.Id, line.Boot, stage.Name, line.HostTime)));
                        }
                        console[j.Id] = lines.Count > 0 ? lines[^1].LineNo + 1 : j.ConsoleCount;
                    }
                }

                var jobIds = rows.Select(j => j.Id).ToList();
                var reports = await db.Boots.AsNoTracking().Where(b => jobIds.Contains(b.JobId)).Include(b => b.Stages)
                    .OrderBy(b => b.EndedAt).ToListAsync(ct);
                foreach (var b in reports.Where(b => boots.Add((b.JobId, b.Index))))
                    items.Add(Item("boot", new BootEvent(b.JobId, b.Index, b.Outcome, b.Detail,
                        b.Stages.OrderBy(s => s.Ordinal).Select(s => new StageReport(s.Name, s.Source, s.KernelNs, s.HostNs)).ToList())));
                items.AddRange(endedJobs.Select(e => Item("job", e)));

                ended = run.EndedAt is not null;
                if (ended) items.Add(Item("end", headline));
            }
            foreach (var item in items) yield return item;
            if (ended) yield break;
            try
            {
                await Task.Delay(Poll, clock, ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }
}

/// <summary><c>GET /api/jobs/{id}/state</c>: where a job is (what <c>lab logs --follow</c> asks to know when to stop).</summary>
public static class JobStateApi
{
    public static void MapJobStateApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/jobs/{id:guid}/state", async Task<Results<Ok<JobStateView>, ProblemHttpResult>> (Guid id, LabDbContext db, CancellationToken ct) =>
            await db.Jobs.AsNoTracking().Where(j => j.Id == id).Select(j => new JobStateView(j.Id, j.RunId, j.State, j.Outcome, j.ConsoleCount)).FirstOrDefaultAsync(ct) is { } s
                ? TypedResults.Ok(s)
                : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no job {id}"))
            .WithTags("Runs").WithName("GetJobState");
}
