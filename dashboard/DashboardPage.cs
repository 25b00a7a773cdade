using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace Redox.Lab.Dashboard;

/// <summary>Base of every page: the request (statically rendered, so there always is one), its abort token, and 404s.</summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter] public HttpContext? HttpContext { get; set; }

    /// <summary>Cancelled when the browser goes away.</summary>
    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    /// <summary>Answers 404; the page renders its own "not found" text.</summary>
    protected void NotFound()
    {
        if (HttpContext is not { Response.HasStarted: false } http) return;
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        // The page writes its own "not found": the API's problem-details body is not for people.
        if (http.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
    }
}
