using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace Redox.Lab.Dashboard;

/// <summary>Base of every page: the request (statically rendered, so there always is one), its abort token, and 404s.</summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter] public HttpContext? HttpContext { get; set; }

    [Inject] public NavigationManager Navigation { get; set; } = null!;

    /// <summary>Cancelled when the browser goes away.</summary>
    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    /// <summary>Answers 404 with <see cref="Pages.NotFoundPage"/> (the router's not-found page) instead of this page.</summary>
    protected void NotFound()
    {
        // The page is for people: not the API's problem-details body that UseStatusCodePages writes.
        if (HttpContext?.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        Navigation.NotFound();
    }
}
