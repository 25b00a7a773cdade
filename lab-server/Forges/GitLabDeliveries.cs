using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// GitLab deliveries (push and merge-request events): <c>X-Gitlab-Token</c> compared with the repository's secret in
/// constant time; the payload read into the few fields the lab needs (no well-kept .NET package models GitLab's events).
/// </summary>
public static class GitLabDeliveries
{
    public const string TokenHeader = "X-Gitlab-Token";
    public const string EventHeader = "X-Gitlab-Event";
    /// <summary>The same across GitLab's retries of one event (GitLab 17.4+); older GitLab: <see cref="EventUuidHeader"/>.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";
    public const string EventUuidHeader = "X-Gitlab-Event-UUID";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    public static bool TokenMatches(string secret, string? token) => TokensMatch(secret, token);

    /// <summary>Constant-time comparison of two secrets (of their SHA-256, so the length does not leak either).</summary>
    public static bool TokensMatch(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    public static HookEvent Parse(string? eventName, string body)
    {
        var name = eventName ?? "";
        if (name is not ("Push Hook" or "Merge Request Hook"))
            return HookEvent.Ignored(name, null, $"event '{HookEvent.Cut(name)}' is not one the lab takes (Push Hook, Merge Request Hook)");
        Payload payload;
        try
        {
            payload = JsonSerializer.Deserialize<Payload>(body, Json) ?? throw new JsonException("null payload");
        }
        catch (JsonException ex)
        {
            throw new HookRefusedException(400, "Malformed payload", $"not a GitLab payload: {HookEvent.Cut(ex.Message)}");
        }
        var project = payload.Project?.PathWithNamespace;
        if (string.IsNullOrEmpty(project)) throw new HookRefusedException(400, "Malformed payload", "the payload names no project (project.path_with_namespace)");

        if (name == "Push Hook")
        {
            if (payload.ObjectKind != "push") throw new HookRefusedException(400, "Malformed payload", "a Push Hook whose object_kind is not push");
            if (payload.After is null || payload.Ref is null) throw new HookRefusedException(400, "Malformed payload", "a push without ref and after");
            return HookEvent.FromRefUpdate(name, project, payload.Ref, payload.After, deleted: payload.After.Trim('0').Length == 0);
        }

        var mr = payload.ObjectAttributes;
        if (payload.ObjectKind != "merge_request" || mr is null)
            throw new HookRefusedException(400, "Malformed payload", "a Merge Request Hook without object_attributes");
        var action = mr.Action ?? "";
        var newCommits = action is "open" or "reopen" || (action == "update" && mr.OldRev is not null);
        if (!newCommits) return HookEvent.Ignored(name, project, $"merge request !{mr.Iid} {HookEvent.Cut(action)}: no new commits");
        if (mr.SourceProjectId != mr.TargetProjectId)
            return HookEvent.Ignored(name, project, $"merge request !{mr.Iid} comes from a fork; the lab tests branches of the registered repository");
        if (mr.SourceBranch is null || mr.LastCommit?.Id is null)
            throw new HookRefusedException(400, "Malformed payload", "a merge request without source_branch and last_commit");
        return new HookEvent(name, HookAction.Test, project, mr.SourceBranch, mr.LastCommit.Id,
            $"merge request !{mr.Iid} {action}, head {HookEvent.Cut(mr.LastCommit.Id)}");
    }

    private sealed record Payload(
        [property: JsonPropertyName("object_kind")] string? ObjectKind,
        string? Ref,
        string? After,
        GitLabProject? Project,
        [property: JsonPropertyName("object_attributes")] MergeRequest? ObjectAttributes);

    private sealed record GitLabProject([property: JsonPropertyName("path_with_namespace")] string? PathWithNamespace);

    private sealed record MergeRequest(
        long Iid,
        string? Action,
        [property: JsonPropertyName("source_branch")] string? SourceBranch,
        [property: JsonPropertyName("source_project_id")] long SourceProjectId,
        [property: JsonPropertyName("target_project_id")] long TargetProjectId,
        [property: JsonPropertyName("oldrev")] string? OldRev,
        [property: JsonPropertyName("last_commit")] LastCommitRef? LastCommit);

    private sealed record LastCommitRef(string? Id);
}
