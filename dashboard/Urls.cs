namespace Redox.Lab.Dashboard;

/// <summary>Permalinks: every page's state is its URL's query string.</summary>
public static class Urls
{
    /// <summary><paramref name="path"/> with the non-null parameters, escaped.</summary>
    public static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var set = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? path : path + "?" + string.Join('&', set);
    }

    public static string Run(Guid id) => $"/runs/{id}";

    /// <summary>The flamegraph page of a profile reference (lab-server/Profiles/FLAMEGRAPH.md).</summary>
    public static string Flamegraph(string reference) => Query("/profiles/flamegraph", ("profile", reference));

    /// <summary>The differential flamegraph page of two profile references.</summary>
    public static string ProfileDiff(string baseRef, string headRef) => Query("/profiles/diff", ("base", baseRef), ("head", headRef));

    public static string Console(Guid jobId, long? line = null) => line is { } l ? $"/jobs/{jobId}/console?line={l}#L{l}" : $"/jobs/{jobId}/console";

    /// <summary>The last path segment of a repository URL or path, without <c>.git</c>.</summary>
    public static string RepoName(string url)
    {
        var name = url.TrimEnd('/', '\\').Split('/', '\\')[^1];
        if (name.EndsWith(".git", StringComparison.Ordinal)) name = name[..^4];
        return name.Length > 0 ? name : url;
    }
}
