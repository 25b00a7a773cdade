using Microsoft.Extensions.Options;

namespace Redox.Lab.Server.Infrastructure;

/// <summary>
/// Keeps the server's own directories out of what clients read: every problem document's detail has the data
/// directory (<c>Lab:DataDir</c>: git mirrors, artifacts), the content root and the program directory replaced by
/// placeholders. git's and other tools' messages quote the paths they worked in; the client needs what went wrong,
/// not where the server keeps things. (Unexpected exceptions never reach the client at all: ProblemExceptionHandler.)
/// </summary>
public static class ServerPaths
{
    /// <summary>What <c>Lab:DataDir</c> reads as in what clients see.</summary>
    public const string DataPlaceholder = "<lab data>";

    public static void Scrub(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Detail is not { Length: > 0 } detail) return;
        var services = context.HttpContext.RequestServices;
        var data = Path.GetFullPath(services.GetRequiredService<IOptions<LabOptions>>().Value.DataDir);
        var root = services.GetRequiredService<IWebHostEnvironment>().ContentRootPath;
        context.ProblemDetails.Detail = Replace(detail, (data, DataPlaceholder), (root, "<server>"), (AppContext.BaseDirectory, "<server>"));
    }

    /// <summary>Each path (with and without its trailing slash), longest first, replaced by its placeholder.</summary>
    public static string Replace(string text, params (string Path, string Placeholder)[] paths)
    {
        foreach (var (path, placeholder) in paths.Where(p => p.Path.Trim('/').Length > 0).OrderByDescending(p => p.Path.Length))
            text = text.Replace(path.TrimEnd('/'), placeholder, StringComparison.Ordinal);
        return text;
    }
}
