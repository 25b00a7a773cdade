using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Redox.Lab.Server.Infrastructure;

/// <summary>
/// Turns what escapes a handler into a problem document: unreadable requests are 400s, an unreachable
/// database is a 503 (the client retries; nothing it sent was half-stored, every write is one transaction).
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail) = Classify(exception);
        if (status >= 500) log.LogError(exception, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    internal static (int Status, string Title, string Detail) Classify(Exception exception)
    {
        if (exception is BadHttpRequestException bad)
        {
            var inner = bad.InnerException is JsonException json ? $" {json.Message}" : "";
            return (bad.StatusCode, "Bad request", bad.Message + inner);
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException)
                return (StatusCodes.Status503ServiceUnavailable, "Database unavailable", "The lab's database did not answer; retry shortly.");
        }
        return (StatusCodes.Status500InternalServerError, "Internal error", "The server failed; see its log.");
    }
}
