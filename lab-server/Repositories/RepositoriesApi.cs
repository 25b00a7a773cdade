using System.Security.Claims;
using System.Text.RegularExpressions;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Repositories;

/// <summary>
/// Registered repositories: admins register them (location, default branch, pipeline files, trusted or not,
/// who may push); developers and admins read them (locations are not shown to viewers); pushes name one.
/// </summary>
public static partial class RepositoriesApi
{
    public static void MapRepositoriesApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/repositories").WithTags("Repositories").RequireAuthorization(Policies.Developer);
        read.MapGet("", List).WithName("ListRepositories");
        read.MapGet("/{name}", Get).WithName("GetRepository");

        var admin = app.MapGroup("/api/repositories").WithTags("Repositories").RequireAuthorization(Policies.Admin);
        admin.MapPost("", Register).WithName("RegisterRepository");
        admin.MapPut("/{name}", Update).WithName("UpdateRepository");
        admin.MapDelete("/{name}", Delete).WithName("DeleteRepository");
    }

    public static async Task<Ok<List<RepositoryView>>> List(LabDbContext db, CancellationToken ct) =>
        TypedResults.Ok((await db.Repositories.AsNoTracking().OrderBy(r => r.Name).ToListAsync(ct)).Select(View).ToList());

    public static async Task<Results<Ok<RepositoryView>, ProblemHttpResult>> Get(string name, LabDbContext db, CancellationToken ct) =>
        await db.Repositories.AsNoTracking().FirstOrDefaultAsync(r => r.Name == name, ct) is { } r
            ? TypedResults.Ok(View(r))
            : NotFound(name);

    public static async Task<Results<Created<RepositoryView>, ProblemHttpResult>> Register(
        RepositoryView request, LabDbContext db, TimeProvider clock, IBackgroundJobClient hangfire, CancellationToken ct)
    {
        RepositoryRow row;
        try
        {
            row = await ValidateAsync(request, db, ct);
        }
        catch (PushRejectedException ex)
        {
            return TypedResults.Problem(statusCode: ex.Status, title: ex.Title, detail: ex.Message);
        }
        if (await db.Repositories.AnyAsync(r => r.Name == row.Name || r.Url == row.Url, ct))
            return TypedResults.Problem(statusCode: 409, title: "Repository exists", detail: $"a repository named '{row.Name}' or at that location is registered");
        row.Id = Guid.CreateVersion7(clock.GetUtcNow());
        row.CreatedAt = clock.GetUtcNow();
        db.Repositories.Add(row);
        await db.SaveChangesAsync(ct);
        // Clone its mirror now, so the first push only fetches (a failure here is harmless: the push clones).
        try
        {
            var id = row.Id;
            hangfire.Enqueue<ResolvePushJob>(ResolvePushJob.Queue, job => job.WarmAsync(id, CancellationToken.None));
        }
        catch (BackgroundJobClientException)
        {
        }
        return TypedResults.Created($"/api/repositories/{row.Name}", View(row));
    }

    public static async Task<Results<Ok<RepositoryView>, ProblemHttpResult>> Update(
        string name, RepositoryView request, LabDbContext db, CancellationToken ct)
    {
        var existing = await db.Repositories.FirstOrDefaultAsync(r => r.Name == name, ct);
        if (existing is null) return NotFound(name);
        RepositoryRow row;
        try
        {
            row = await ValidateAsync(request with { Name = name }, db, ct);
        }
        catch (PushRejectedException ex)
        {
            return TypedResults.Problem(statusCode: ex.Status, title: ex.Title, detail: ex.Message);
        }
        if (row.Url != existing.Url && await db.Repositories.AnyAsync(r => r.Url == row.Url, ct))
            return TypedResults.Problem(statusCode: 409, title: "Repository exists", detail: "another repository is registered at that location");
        existing.Url = row.Url;
        existing.DefaultBranch = row.DefaultBranch;
        existing.PipelineFiles = row.PipelineFiles;
        existing.Trusted = row.Trusted;
        existing.Pushers = row.Pushers;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(existing));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, LabDbContext db, CancellationToken ct)
    {
        var existing = await db.Repositories.FirstOrDefaultAsync(r => r.Name == name, ct);
        if (existing is null) return NotFound(name);
        if (await db.Runs.AnyAsync(r => r.RepositoryId == existing.Id, ct))
            return TypedResults.Problem(statusCode: 409, title: "Repository has runs", detail: $"'{name}' has runs; revoke its pushers instead (PUT with pushers [])");
        db.Repositories.Remove(existing);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>The registered repository a push names (by name or location), or why it cannot be pushed by this user.</summary>
    public static async Task<RepositoryRow> ForPushAsync(LabDbContext db, string repository, ClaimsPrincipal user, CancellationToken ct)
    {
        var given = repository?.Trim() ?? "";
        if (given.Length == 0) throw new PushRejectedException("Invalid push", "repository is required");
        if (given.Length > 2000) throw new PushRejectedException("Invalid push", "repository is at most 2000 characters");
        RepositoryRow? row = null;
        if (RepositoryName().IsMatch(given)) row = await db.Repositories.AsNoTracking().FirstOrDefaultAsync(r => r.Name == given, ct);
        if (row is null)
        {
            var url = PushService.NormaliseRepository(given);
            row = await db.Repositories.AsNoTracking().FirstOrDefaultAsync(r => r.Url == url, ct);
        }
        if (row is null)
            throw new PushRejectedException("Repository not registered", $"'{Prefix(given)}' is not a registered repository; an admin registers it (lab-cli repo add)", 403);
        var name = user.Identity?.Name;
        var may = user.IsInRole(Roles.Admin)
                  || (user.IsInRole(Roles.Developer) && (row.Pushers.Contains("*") || (name is not null && row.Pushers.Contains(name))));
        if (!may) throw new PushRejectedException("Not a pusher", $"you may not push to '{row.Name}' (its pushers: {string.Join(", ", row.Pushers)})", 403);
        return row;
    }

    private static async Task<RepositoryRow> ValidateAsync(RepositoryView r, LabDbContext db, CancellationToken ct)
    {
        static PushRejectedException Invalid(string detail) => new("Invalid repository", detail);
        if (!RepositoryName().IsMatch(r.Name ?? "")) throw Invalid("name must be 1 to 100 of [A-Za-z0-9._-]");
        var url = r.Url?.Trim() ?? "";
        if (url.Length is 0 or > 2000) throw Invalid("url must be 1 to 2000 characters");
        if (url.Any(char.IsControl)) throw Invalid("url must not contain control characters");
        var isUrl = url.Contains("://", StringComparison.Ordinal) || ScpLike().IsMatch(url);
        if (isUrl && !AllowedScheme().IsMatch(url) && !ScpLike().IsMatch(url))
            throw Invalid("url must be https://, http://, ssh://, git://, user@host:path or an absolute path");
        if (!isUrl && !Path.IsPathRooted(url)) throw Invalid("a local repository must be an absolute path");
        var branch = r.DefaultBranch?.Trim() ?? "";
        if (!PushService.IsBranchName(branch)) throw Invalid($"'{Prefix(branch)}' is not a branch name");
        var pipelines = (r.Pipelines ?? []).Select(p => p.Trim().TrimStart('/')).Distinct(StringComparer.Ordinal).ToList();
        if (pipelines.Count is 0 or > 100) throw Invalid("give 1 to 100 pipeline files");
        foreach (var p in pipelines)
            if (!PushService.IsPipelinePath(p)) throw Invalid($"'{Prefix(p)}' is not a pipeline path inside the repository");
        var pushers = (r.Pushers ?? []).Select(p => p.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var names = pushers.Where(p => p != "*").ToList();
        var known = await db.Set<UserRow>().Where(u => names.Contains(u.Name)).Select(u => u.Name).ToListAsync(ct);
        if (names.Except(known, StringComparer.Ordinal).FirstOrDefault() is { } unknown) throw Invalid($"no user '{Prefix(unknown)}'");
        return new RepositoryRow
        {
            Name = r.Name!,
            Url = isUrl ? url : Path.GetFullPath(url).TrimEnd('/'),
            DefaultBranch = branch,
            PipelineFiles = pipelines,
            Trusted = r.Trusted,
            Pushers = pushers,
        };
    }

    internal static RepositoryView View(RepositoryRow r) => new(r.Name, r.Url, r.DefaultBranch, r.PipelineFiles, r.Trusted, r.Pushers);

    /// <summary>Client input echoed in errors and logs is cut to a bounded prefix.</summary>
    internal static string Prefix(string s) => s.Length <= 120 ? s : s[..120] + "…";

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no repository '{Prefix(name)}'");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex RepositoryName();

    [GeneratedRegex("^(https?|ssh|git)://", RegexOptions.IgnoreCase)]
    private static partial Regex AllowedScheme();

    [GeneratedRegex(@"^[\w.-]+@[\w.-]+:")]
    private static partial Regex ScpLike();
}
