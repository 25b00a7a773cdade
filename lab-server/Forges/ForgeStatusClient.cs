using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Redox.Lab.Server.Forges;

/// <summary>A status the forge refused or could not take; <see cref="Permanent"/>: asking again will not help (4xx).</summary>
public sealed class ForgeStatusException(string message, bool permanent) : Exception(message)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// Posts one commit status to GitHub (<c>POST /repos/{owner}/{repo}/statuses/{sha}</c>, the statuses API: a token is all it
/// needs, unlike checks, which need a GitHub App) or GitLab (<c>POST /projects/{id}/statuses/{sha}</c>).
/// </summary>
public sealed class ForgeStatusClient(HttpClient http)
{
    public const string HttpClientName = "forge-status";

    /// <summary>GitHub truncates descriptions past 140 characters; GitLab takes 255.</summary>
    public const int MaxDescription = 140;

    public async Task PostAsync(RepositoryHookRow hook, CommitStatusRow status, CancellationToken ct)
    {
        var api = hook.StatusApi ?? throw new ForgeStatusException("the repository's hook has no statusApi", permanent: true);
        var forge = hook.StatusForge ?? hook.Forge;
        var project = hook.Project ?? throw new ForgeStatusException("the repository's hook has no project", permanent: true);
        using var request = forge == ForgeKinds.GitHub
            ? new HttpRequestMessage(HttpMethod.Post, $"{api}/repos/{project}/statuses/{status.Commit}")
            {
                Content = JsonContent.Create(new
                {
                    state = GitHubState(status.State),
                    target_url = status.TargetUrl,
                    description = Cut(status.Description),
                    context = status.Context,
                }),
            }
            : new HttpRequestMessage(HttpMethod.Post, $"{api}/projects/{Uri.EscapeDataString(project)}/statuses/{status.Commit}")
            {
                Content = JsonContent.Create(new
                {
                    state = GitLabState(status.State),
                    name = status.Context,
                    target_url = status.TargetUrl,
                    description = Cut(status.Description),
                }),
            };
        if (forge == ForgeKinds.GitHub)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", hook.StatusToken);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
            request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        }
        else
        {
            request.Headers.Add("PRIVATE-TOKEN", hook.StatusToken);
        }
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("redox-lab", "1"));

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ForgeStatusException($"{forge} did not answer: {ex.Message}", permanent: false);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ForgeStatusException($"{forge} did not answer in {http.Timeout.TotalSeconds:0} s", permanent: false);
        }
        using (response)
        {
            if (response.IsSuccessStatusCode) return;
            var body = await response.Content.ReadAsStringAsync(ct);
            var code = (int)response.StatusCode;
            var transient = code >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
            throw new ForgeStatusException($"{forge} answered {code}: {HookEvent.Cut(body)}", permanent: !transient);
        }
    }

    private static string Cut(string s) => s.Length <= MaxDescription ? s : s[..(MaxDescription - 1)] + "…";

    /// <summary>GitHub's statuses have no running or cancelled: running is pending (the description says running).</summary>
    internal static string GitHubState(string state) => state switch
    {
        CommitStates.Pending or CommitStates.Running => "pending",
        CommitStates.Success => "success",
        CommitStates.Failure => "failure",
        _ => "error",
    };

    internal static string GitLabState(string state) => state switch
    {
        CommitStates.Pending => "pending",
        CommitStates.Running => "running",
        CommitStates.Success => "success",
        CommitStates.Cancelled => "canceled",
        _ => "failed",
    };
}

/// <summary>The lab's forge-neutral commit states.</summary>
public static class CommitStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Success = "success";
    /// <summary>The kernel failed, regressed, or has a new bug.</summary>
    public const string Failure = "failure";
    /// <summary>The lab failed (infrastructure, agent lost).</summary>
    public const string Error = "error";
    public const string Cancelled = "cancelled";
}
