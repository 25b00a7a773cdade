using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Forges;

/// <summary>A registered repository with a hook, and deliveries to it as a forge sends them (raw bytes, real headers).</summary>
internal sealed class HookedRepo
{
    /// <summary>GitHub's published example secret (docs: "Validating webhook deliveries").</summary>
    public const string GitHubExampleSecret = "It's a Secret to Everybody";

    public required GitRepo Git { get; init; }
    public required string Name { get; init; }
    public required string Project { get; init; }
    public required string Secret { get; init; }
    public required string Tag { get; init; }

    /// <summary>A repository whose reference pipeline asks for a fresh tag (so only this test's machines match), with a hook.</summary>
    public static async Task<HookedRepo> CreateAsync(LabFixture lab, string forge, string? secret = null, string[]? branches = null,
        string? statusApi = null, string? statusToken = null)
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..10];
        var git = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag), register: false);
        var registered = await lab.RegisterRepoAsync(git.Path, pipelines: ["pipelines/*.yaml"]);
        var project = forge == "git" ? null : "lab-tests/" + registered.Name;
        secret ??= "s3cret-" + Guid.NewGuid().ToString("N");
        using var admin = lab.Client();
        var response = await admin.PutAsJsonAsync($"/api/repositories/{registered.Name}/hook",
            new RepositoryHookRequest(forge, ["pipelines/redox-reference.yaml"], project, branches, secret, statusApi, null, statusToken), LabFixture.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return new HookedRepo { Git = git, Name = registered.Name, Project = project ?? "", Secret = secret, Tag = tag };
    }

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static async Task<(HttpResponseMessage Response, HookDeliveryResult? Result)> SendAsync(
        LabFixture lab, string path, byte[] body, IReadOnlyDictionary<string, string> headers)
    {
        using var client = lab.AnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        HookDeliveryResult? result = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
            result = JsonSerializer.Deserialize<HookDeliveryResult>(text, LabFixture.Json);
        return (response, result);
    }

    /// <summary>A GitHub push event as GitHub sends it (the fields the docs' example shows), for commits on <paramref name="gitRef"/>.</summary>
    public static byte[] GitHubPush(string project, string gitRef, string before, string after, IReadOnlyList<string> commits, bool forced = false, bool deleted = false)
    {
        var owner = project.Split('/')[0];
        var name = project.Split('/')[1];
        object Commit(string id) => new Dictionary<string, object?>
        {
            ["id"] = id, ["tree_id"] = id, ["distinct"] = true, ["message"] = "commit " + id[..7],
            ["timestamp"] = "2026-12-01T20:00:00+00:00", ["url"] = $"https://github.com/{project}/commit/{id}",
            ["author"] = new { name = "Dev", email = "dev@lab.invalid", username = "dev" },
            ["committer"] = new { name = "Dev", email = "dev@lab.invalid", username = "dev" },
            ["added"] = Array.Empty<string>(), ["removed"] = Array.Empty<string>(), ["modified"] = new[] { "README.md" },
        };
        var user = new Dictionary<string, object?>
        {
            ["login"] = owner, ["id"] = 1, ["node_id"] = "MDQ6VXNlcjE=", ["avatar_url"] = "https://github.com/images/error/octocat_happy.gif",
            ["gravatar_id"] = "", ["url"] = $"https://api.github.com/users/{owner}", ["html_url"] = $"https://github.com/{owner}",
            ["type"] = "User", ["site_admin"] = false,
        };
        var payload = new Dictionary<string, object?>
        {
            ["ref"] = gitRef, ["before"] = before, ["after"] = after,
            ["created"] = false, ["deleted"] = deleted, ["forced"] = forced, ["base_ref"] = null,
            ["compare"] = $"https://github.com/{project}/compare/{before[..12]}...{after[..12]}",
            ["commits"] = commits.Select(Commit).ToList(),
            ["head_commit"] = commits.Count > 0 ? Commit(commits[^1]) : null,
            ["repository"] = new Dictionary<string, object?>
            {
                ["id"] = 35129377, ["node_id"] = "MDEwOlJlcG9zaXRvcnkzNTEyOTM3Nw==", ["name"] = name, ["full_name"] = project,
                ["private"] = false, ["owner"] = user, ["html_url"] = $"https://github.com/{project}", ["description"] = "kernel",
                ["fork"] = false, ["url"] = $"https://github.com/{project}", ["default_branch"] = "main", ["master_branch"] = "main",
            },
            ["pusher"] = new { name = owner, email = "dev@lab.invalid" },
            ["sender"] = user,
        };
        return JsonSerializer.SerializeToUtf8Bytes(payload);
    }

    public Dictionary<string, string> GitHubHeaders(byte[] body, string delivery, string @event = "push", string? secret = null) => new()
    {
        ["X-GitHub-Event"] = @event,
        ["X-GitHub-Delivery"] = delivery,
        ["X-GitHub-Hook-ID"] = "292430182",
        ["X-Hub-Signature-256"] = Sign(secret ?? Secret, body),
        ["User-Agent"] = "GitHub-Hookshot/044aadd",
    };

    public static byte[] GitLabPush(string project, string gitRef, string before, string after) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
    {
        ["object_kind"] = "push", ["event_name"] = "push", ["before"] = before, ["after"] = after, ["ref"] = gitRef,
        ["checkout_sha"] = after.Trim('0').Length == 0 ? null : after, ["user_username"] = "dev", ["project_id"] = 15,
        ["project"] = new Dictionary<string, object?> { ["id"] = 15, ["name"] = project.Split('/')[^1], ["path_with_namespace"] = project, ["default_branch"] = "main" },
        ["commits"] = Array.Empty<object>(), ["total_commits_count"] = 1,
    });

    public static byte[] GitLabMergeRequest(string project, int iid, string action, string sourceBranch, string head, string? oldrev = null, long sourceProject = 15) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["object_kind"] = "merge_request", ["event_type"] = "merge_request",
            ["project"] = new Dictionary<string, object?> { ["id"] = 15, ["path_with_namespace"] = project },
            ["object_attributes"] = new Dictionary<string, object?>
            {
                ["iid"] = iid, ["action"] = action, ["state"] = "opened", ["source_branch"] = sourceBranch, ["target_branch"] = "main",
                ["source_project_id"] = sourceProject, ["target_project_id"] = 15, ["oldrev"] = oldrev,
                ["last_commit"] = new { id = head, message = "head" },
            },
        });

    public Dictionary<string, string> GitLabHeaders(string @event, string delivery, string? token = null) => new()
    {
        ["X-Gitlab-Event"] = @event,
        ["X-Gitlab-Token"] = token ?? Secret,
        ["Idempotency-Key"] = delivery,
        ["X-Gitlab-Event-UUID"] = Guid.NewGuid().ToString(),
    };
}
