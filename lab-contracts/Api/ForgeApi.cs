namespace Redox.Lab.Contracts.Api;

// Forge hooks and commit statuses (lab-server/Forges/WEBHOOKS.md): how a registered repository's pushes reach the
// lab without a person (GitHub and GitLab webhooks, a post-receive hook) and where its results go back (commit statuses).

/// <summary>PUT /api/repositories/{name}/hook (admin): how the repository's forge reaches the lab and where statuses go.</summary>
/// <param name="Forge"><c>github</c>, <c>gitlab</c> or <c>git</c> (the post-receive hook of a self-hosted repository).</param>
/// <param name="Project">The forge's name of the repository (<c>owner/name</c> on GitHub, <c>group/project</c> on GitLab); a
/// delivery naming another repository is refused. Required for github and gitlab, and for statuses.</param>
/// <param name="Pipelines">The pipeline files a delivery runs, each one of the repository's pipeline files; one run per file.</param>
/// <param name="Branches">Branches to test: names or patterns where <c>*</c> is any characters but <c>/</c> and <c>**</c> any
/// characters; default: every branch.</param>
/// <param name="Secret">The webhook secret (GitHub: the HMAC key; GitLab and git: the token the hook sends). Null on an update
/// keeps the stored one; it is never shown again.</param>
/// <param name="StatusApi">The forge API that takes commit statuses (<c>https://api.github.com</c>,
/// <c>https://gitlab.example/api/v4</c>); null: no statuses.</param>
/// <param name="StatusForge">Which API <c>StatusApi</c> speaks, <c>github</c> or <c>gitlab</c>; default: <c>Forge</c>.</param>
/// <param name="StatusToken">The token statuses are posted with; null on an update keeps the stored one; never shown again.</param>
public sealed record RepositoryHookRequest(
    string Forge,
    IReadOnlyList<string> Pipelines,
    string? Project = null,
    IReadOnlyList<string>? Branches = null,
    string? Secret = null,
    string? StatusApi = null,
    string? StatusForge = null,
    string? StatusToken = null);

/// <summary>A repository's hook settings as the API shows them: the secrets only as set or not.</summary>
/// <remarks><c>HookPath</c>: where the forge delivers (<c>/hooks/github/{name}</c>, ...), relative to the lab's URL.</remarks>
public sealed record RepositoryHookView(
    string Repository, string Forge, string? Project, IReadOnlyList<string> Pipelines, IReadOnlyList<string> Branches,
    bool SecretSet, string? StatusApi, string? StatusForge, bool StatusTokenSet, string HookPath);

/// <summary>What a hook delivery did: the answer to the forge (shown in its delivery log) and the delivery's record.</summary>
/// <param name="Delivery">The delivery id (X-GitHub-Delivery, GitLab's Idempotency-Key or X-Gitlab-Event-UUID, X-Lab-Delivery).</param>
/// <param name="Result"><c>started</c>, <c>duplicate</c>, <c>ignored</c> (nothing to test), <c>cancelled</c> (branch deleted) or <c>refused</c>.</param>
/// <param name="Runs">Runs the delivery started (for a duplicate: the runs the first delivery started).</param>
/// <param name="Detail">Why, in one line.</param>
public sealed record HookDeliveryResult(string Delivery, string Result, IReadOnlyList<Guid> Runs, string Detail);

/// <summary>A commit status the lab posted or will post (GET /api/runs/{id}/statuses).</summary>
/// <remarks>
/// <para><c>Phase</c>: <c>pending</c>, <c>running</c> or <c>final</c>: one status per job and phase.</para>
/// <para><c>State</c>: pending, running, success, failure, error or cancelled (each forge's client maps it to its own).</para>
/// <para><c>PostedAt</c>: when the forge accepted it; null while it waits or retries.</para>
/// </remarks>
public sealed record CommitStatusView(
    Guid JobId, string Context, string Phase, string State, string Description, string TargetUrl,
    DateTimeOffset CreatedAt, DateTimeOffset? PostedAt, int Attempts, string? LastError);
