using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;
using Npgsql;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// One delivery from a forge or a post-receive hook, start to end: find the repository's hook, authenticate the delivery,
/// read it, record its id (a second delivery with the same id starts nothing), then test the head, cancel a deleted
/// branch's queued work, or ignore it. Runs are created by <see cref="PushService"/>, as the API's push does.
/// </summary>
public sealed class HookIntake(
    LabDbContext db, NpgsqlDataSource dataSource, PushService pushes, RunCancellation cancellation, TimeProvider clock, ILogger<HookIntake> log)
{
    public async Task<(int Status, HookDeliveryResult Result)> ReceiveAsync(
        string forge, string repositoryName, IDictionary<string, StringValues> headers, byte[] body, CancellationToken ct)
    {
        var hook = await db.Set<RepositoryHookRow>().AsNoTracking().Include(h => h.Repository)
            .FirstOrDefaultAsync(h => h.Repository.Name == repositoryName && h.Forge == forge, ct)
            ?? throw new HookRefusedException(404, "Unknown repository", $"no {forge} hook is registered for repository '{HookEvent.Cut(repositoryName)}'");

        if (!Authentic(forge, hook.Secret, headers, body))
            throw new HookRefusedException(401, "Bad signature", forge == ForgeKinds.GitHub
                ? $"{GitHubDeliveries.SignatureHeader} does not match the payload under this repository's secret"
                : $"{(forge == ForgeKinds.GitLab ? GitLabDeliveries.TokenHeader : PostReceiveDeliveries.TokenHeader)} is not this repository's secret");

        var deliveryId = DeliveryId(forge, headers)
            ?? throw new HookRefusedException(400, "No delivery id", "the delivery carries no delivery id header");
        if (deliveryId.Length > 200 || deliveryId.Any(char.IsControl))
            throw new HookRefusedException(400, "Bad delivery id", "the delivery id is over 200 characters or has control characters");

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            throw new HookRefusedException(400, "Malformed payload", "the payload is not UTF-8");
        }
        var hookEvent = forge switch
        {
            ForgeKinds.GitHub => GitHubDeliveries.Parse(headers, text),
            ForgeKinds.GitLab => GitLabDeliveries.Parse(Header(headers, GitLabDeliveries.EventHeader), text),
            _ => PostReceiveDeliveries.Parse(text),
        };
        if (hookEvent.Project is { } project && hook.Project is { } expected && !string.Equals(project, expected, StringComparison.OrdinalIgnoreCase))
            throw new HookRefusedException(403, "Wrong repository", $"the delivery is about '{HookEvent.Cut(project)}'; this hook is for '{expected}'");

        // Record the delivery id first: of two deliveries with the same id, only the one whose insert wins goes on.
        var recordId = await RecordAsync(hook.RepositoryId, forge, deliveryId, hookEvent.Event, ct);
        if (recordId is null)
        {
            var first = await db.Set<HookDeliveryRow>().AsNoTracking()
                .SingleAsync(d => d.RepositoryId == hook.RepositoryId && d.Forge == forge && d.DeliveryId == deliveryId, ct);
            log.LogInformation("Hook {Forge} {Repository}: delivery {Delivery} again; ignored", forge, hook.Repository.Name, deliveryId);
            return (200, new HookDeliveryResult(deliveryId, "duplicate", first.Runs, $"delivery already received at {first.ReceivedAt:u}: {first.Result}"));
        }

        try
        {
            var (status, result) = await ActAsync(hook, deliveryId, hookEvent, ct);
            await db.Set<HookDeliveryRow>().Where(d => d.Id == recordId)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Result, result.Result).SetProperty(d => d.Detail, result.Detail)
                    .SetProperty(d => d.Runs, result.Runs.ToList()), ct);
            log.LogInformation("Hook {Forge} {Repository}: delivery {Delivery} ({Event}) {Result}: {Detail}",
                forge, hook.Repository.Name, deliveryId, hookEvent.Event, result.Result, result.Detail);
            return (status, result);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Not handled (the database, git): forget the delivery so the forge's retry is not taken for a duplicate.
            await db.Set<HookDeliveryRow>().Where(d => d.Id == recordId).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
    }

    private async Task<(int, HookDeliveryResult)> ActAsync(RepositoryHookRow hook, string deliveryId, HookEvent e, CancellationToken ct)
    {
        switch (e.Action)
        {
            case HookAction.Ignore:
                return (200, new HookDeliveryResult(deliveryId, "ignored", [], e.Detail));
            case HookAction.DeleteBranch:
            {
                var runs = await db.Runs.AsNoTracking()
                    .Where(r => r.RepositoryId == hook.RepositoryId && r.Branch == e.Branch && r.Kind == RunKinds.Push && r.EndedAt == null)
                    .Select(r => r.Id).ToListAsync(ct);
                var cancelled = new List<Guid>();
                // The cancel path of POST /api/runs/{id}/cancel (Runs/RunCancellation): queued jobs end at once, running
                // ones are told to stop by their heartbeat.
                foreach (var run in runs)
                    if (await cancellation.CancelRunForAsync(run, $"cancelled: branch {HookEvent.Cut(e.Branch!)} deleted", ct)) cancelled.Add(run);
                return (200, new HookDeliveryResult(deliveryId, "cancelled", cancelled,
                    $"{e.Detail}: {cancelled.Count} run{(cancelled.Count == 1 ? "" : "s")} cancelled"));
            }
        }

        if (!BranchPattern.MatchesAny(hook.Branches, e.Branch!))
            return (200, new HookDeliveryResult(deliveryId, "ignored", [], $"branch {HookEvent.Cut(e.Branch!)} is not tested (branches: {string.Join(", ", hook.Branches)})"));

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, $"hook:{hook.Forge}"), new Claim(ClaimTypes.Role, Roles.Admin)], "hook", ClaimTypes.Name, ClaimTypes.Role));
        var started = new List<Guid>();
        var notes = new List<string>();
        foreach (var pipeline in hook.Pipelines)
        {
            // The same commit and pipeline already tested (a push and its merge request, a branch pushed twice): not again.
            var existing = await db.Runs.AsNoTracking()
                .Where(r => r.RepositoryId == hook.RepositoryId && r.Commit == e.After && r.PipelinePath == pipeline
                            && r.Kind == RunKinds.Push && r.Outcome != Outcome.Cancelled)
                .OrderByDescending(r => r.CreatedAt).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
            if (existing is { } id)
            {
                started.Add(id);
                notes.Add($"{pipeline}: commit already tested by run {id}");
                continue;
            }
            try
            {
                var (runId, _) = await pushes.PushAsync(new PushRequest(hook.Repository.Name, e.Branch, e.After, pipeline), principal, ct);
                started.Add(runId);
                notes.Add($"{pipeline}: run {runId}");
            }
            catch (PushRejectedException ex)
            {
                if (started.Count == 0 && pipeline == hook.Pipelines[^1])
                    return (ex.Status == 403 ? 403 : 422, new HookDeliveryResult(deliveryId, "refused", [], $"{pipeline}: {ex.Message}"));
                notes.Add($"{pipeline}: refused: {ex.Message}");
            }
        }
        return (202, new HookDeliveryResult(deliveryId, "started", started, $"{e.Detail}; {string.Join("; ", notes)}"));
    }

    private static bool Authentic(string forge, string secret, IDictionary<string, StringValues> headers, byte[] body) => forge switch
    {
        ForgeKinds.GitHub => GitHubDeliveries.SignatureMatches(secret, body, Header(headers, GitHubDeliveries.SignatureHeader)),
        ForgeKinds.GitLab => GitLabDeliveries.TokensMatch(secret, Header(headers, GitLabDeliveries.TokenHeader)),
        _ => GitLabDeliveries.TokensMatch(secret, Header(headers, PostReceiveDeliveries.TokenHeader)),
    };

    private static string? DeliveryId(string forge, IDictionary<string, StringValues> headers) => forge switch
    {
        ForgeKinds.GitHub => Header(headers, GitHubDeliveries.DeliveryHeader),
        ForgeKinds.GitLab => Header(headers, GitLabDeliveries.IdempotencyHeader) ?? Header(headers, GitLabDeliveries.EventUuidHeader),
        _ => Header(headers, PostReceiveDeliveries.DeliveryHeader),
    };

    private static string? Header(IDictionary<string, StringValues> headers, string name) =>
        headers.TryGetValue(name, out var v) && v.Count == 1 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

    /// <summary>The new record's id, or null when a delivery with that id is already recorded.</summary>
    private async Task<long?> RecordAsync(Guid repositoryId, string forge, string deliveryId, string @event, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO hook_deliveries (repository_id, forge, delivery_id, event, result, detail, runs, received_at)
            VALUES ($1, $2, $3, $4, 'received', '', '{}', $5)
            ON CONFLICT (repository_id, forge, delivery_id) DO NOTHING
            RETURNING id
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = repositoryId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = forge });
        cmd.Parameters.Add(new NpgsqlParameter { Value = deliveryId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = HookEvent.Cut(@event) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = clock.GetUtcNow() });
        return await cmd.ExecuteScalarAsync(ct) is long id ? id : null;
    }
}
