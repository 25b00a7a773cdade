namespace Redox.Lab.Server.Forges;

/// <summary>What a delivery asks of the lab, whichever forge sent it.</summary>
public enum HookAction
{
    /// <summary>Nothing to test (a ping, a tag, a closed merge request, an event the lab does not take).</summary>
    Ignore,
    /// <summary>Test <see cref="HookEvent.After"/> on <see cref="HookEvent.Branch"/> (a push of one or more commits, a force-push, a merge request's new head).</summary>
    Test,
    /// <summary>The branch was deleted: cancel its queued work.</summary>
    DeleteBranch,
}

/// <summary>A delivery parsed and checked: forge-neutral.</summary>
/// <param name="Event">The forge's event name (push, Push Hook, Merge Request Hook, post-receive).</param>
/// <param name="Project">The forge's name of the repository the delivery is about (checked against the hook's).</param>
/// <param name="Detail">Why it is ignored, or what it is, in one line.</param>
public sealed record HookEvent(string Event, HookAction Action, string? Project, string? Branch, string? After, string Detail)
{
    public const string ZeroCommit = "0000000000000000000000000000000000000000";

    public static HookEvent Ignored(string @event, string? project, string detail) => new(@event, HookAction.Ignore, project, null, null, detail);

    /// <summary>A ref update (<c>refs/heads/x</c> from <c>before</c> to <c>after</c>) as a push event means it.</summary>
    public static HookEvent FromRefUpdate(string @event, string? project, string? gitRef, string? after, bool deleted)
    {
        const string heads = "refs/heads/";
        if (string.IsNullOrEmpty(gitRef) || !gitRef.StartsWith(heads, StringComparison.Ordinal))
            return Ignored(@event, project, $"'{Cut(gitRef ?? "")}' is not a branch");
        var branch = gitRef[heads.Length..];
        if (deleted || after is null || after.Trim('0').Length == 0)
            return new HookEvent(@event, HookAction.DeleteBranch, project, branch, null, $"branch {Cut(branch)} deleted");
        return new HookEvent(@event, HookAction.Test, project, branch, after, $"push to {Cut(branch)}, head {Cut(after)}");
    }

    internal static string Cut(string s) => Repositories.RepositoriesApi.Prefix(s);
}

/// <summary>A delivery the lab refuses: <see cref="Status"/> and a one-line reason for the forge's delivery log.</summary>
public sealed class HookRefusedException(int status, string title, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}
