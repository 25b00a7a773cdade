using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Repositories;

namespace Redox.Lab.Server.Forges;

/// <summary>Admins set a registered repository's hook: forge, secret, pipelines, branches, and where statuses go.</summary>
public static partial class RepositoryHooksApi
{
    public const int MaxSecret = 500;

    public static void MapRepositoryHooksApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/repositories/{name}/hook").WithTags("Repositories").RequireAuthorization(Policies.Admin);
        admin.MapGet("", Get).WithName("GetRepositoryHook");
        admin.MapPut("", Put).WithName("PutRepositoryHook");
        admin.MapDelete("", Delete).WithName("DeleteRepositoryHook");
    }

    public static async Task<Results<Ok<RepositoryHookView>, ProblemHttpResult>> Get(string name, LabDbContext db, CancellationToken ct)
    {
        var hook = await db.Set<RepositoryHookRow>().AsNoTracking().Include(h => h.Repository)
            .FirstOrDefaultAsync(h => h.Repository.Name == name, ct);
        return hook is null ? Problem(404, "Not found", $"repository '{RepositoriesApi.Prefix(name)}' has no hook") : TypedResults.Ok(View(hook));
    }

    public static async Task<Results<Ok<RepositoryHookView>, ProblemHttpResult>> Put(
        string name, RepositoryHookRequest request, LabDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var repository = await db.Repositories.FirstOrDefaultAsync(r => r.Name == name, ct);
        if (repository is null) return Problem(404, "Not found", $"no repository '{RepositoriesApi.Prefix(name)}'");
        var hook = await db.Set<RepositoryHookRow>().FirstOrDefaultAsync(h => h.RepositoryId == repository.Id, ct);
        if (Invalid(request, repository, hook) is { } error) return Problem(400, "Invalid hook", error);

        if (hook is null)
        {
            hook = new RepositoryHookRow { RepositoryId = repository.Id, Forge = request.Forge, Secret = request.Secret! };
            db.Add(hook);
        }
        hook.Repository = repository;
        hook.Forge = request.Forge;
        hook.Project = string.IsNullOrWhiteSpace(request.Project) ? null : request.Project.Trim();
        hook.Pipelines = request.Pipelines.Select(p => p.Trim().TrimStart('/')).Distinct(StringComparer.Ordinal).ToList();
        hook.Branches = request.Branches is { Count: > 0 } b ? b.Select(x => x.Trim()).Distinct(StringComparer.Ordinal).ToList() : ["**"];
        if (request.Secret is not null) hook.Secret = request.Secret;
        hook.StatusApi = string.IsNullOrWhiteSpace(request.StatusApi) ? null : request.StatusApi.Trim().TrimEnd('/');
        hook.StatusForge = hook.StatusApi is null ? null : request.StatusForge ?? (request.Forge == ForgeKinds.Git ? null : request.Forge);
        if (request.StatusToken is not null) hook.StatusToken = request.StatusToken;
        if (hook.StatusApi is null) hook.StatusToken = null;
        hook.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(hook));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, LabDbContext db, CancellationToken ct)
    {
        var deleted = await db.Set<RepositoryHookRow>().Where(h => h.Repository.Name == name).ExecuteDeleteAsync(ct);
        return deleted == 0 ? Problem(404, "Not found", $"repository '{RepositoriesApi.Prefix(name)}' has no hook") : TypedResults.NoContent();
    }

    private static string? Invalid(RepositoryHookRequest r, RepositoryRow repository, RepositoryHookRow? existing)
    {
        if (!ForgeKinds.IsValid(r.Forge)) return "forge must be github, gitlab or git";
        if (r.Secret is null && existing is null) return "secret is required";
        if (r.Secret is { } s && (s.Length is < 16 or > MaxSecret || s.Any(char.IsControl)))
            return $"secret must be 16 to {MaxSecret} characters without control characters";
        var project = r.Project?.Trim();
        if (r.Forge is ForgeKinds.GitHub or ForgeKinds.GitLab && string.IsNullOrEmpty(project))
            return $"project is required for {r.Forge} (the forge's owner/name of the repository)";
        if (project is { Length: > 0 } && !ProjectName().IsMatch(project)) return "project must be a forge path such as owner/name";
        if (r.Pipelines is not { Count: > 0 and <= 20 }) return "give 1 to 20 pipelines";
        foreach (var p in r.Pipelines)
        {
            var path = p.Trim().TrimStart('/');
            if (!repository.PipelineFiles.Any(f => PipelinePattern.Matches(f, path)))
                return $"'{RepositoriesApi.Prefix(path)}' is not one of {repository.Name}'s pipeline files ({string.Join(", ", repository.PipelineFiles)})";
            if (path.Contains('*', StringComparison.Ordinal)) return $"'{RepositoriesApi.Prefix(path)}': name a pipeline file, not a pattern";
        }
        if (r.Branches is { Count: > 100 }) return "at most 100 branch patterns";
        foreach (var b in r.Branches ?? [])
            if (!BranchPattern.IsValid(b.Trim())) return $"'{RepositoriesApi.Prefix(b)}' is not a branch pattern";
        if (!string.IsNullOrWhiteSpace(r.StatusApi))
        {
            if (!Uri.TryCreate(r.StatusApi.Trim(), UriKind.Absolute, out var api) || api.Scheme is not ("https" or "http"))
                return "statusApi must be an http(s) URL";
            var statusForge = r.StatusForge ?? r.Forge;
            if (statusForge is not (ForgeKinds.GitHub or ForgeKinds.GitLab)) return "statusForge must be github or gitlab";
            if (string.IsNullOrEmpty(project)) return "statuses need the project (the forge's name of the repository)";
            if (r.StatusToken is null && existing?.StatusToken is null) return "statusToken is required with statusApi";
        }
        else if (r.StatusForge is not null) return "statusForge needs statusApi";
        if (r.StatusToken is { } t && (t.Length is 0 or > MaxSecret || t.Any(char.IsControl)))
            return $"statusToken must be 1 to {MaxSecret} characters without control characters";
        return null;
    }

    internal static RepositoryHookView View(RepositoryHookRow h) => new(
        h.Repository.Name, h.Forge, h.Project, h.Pipelines, h.Branches, h.Secret.Length > 0, h.StatusApi, h.StatusForge,
        h.StatusToken is not null, $"/hooks/{h.Forge}/{h.Repository.Name}");

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    [GeneratedRegex(@"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,9}$")]
    private static partial Regex ProjectName();
}
