using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Identity;

/// <summary>
/// Every route of the running server, found through its endpoint data sources (so a route added tomorrow is
/// covered without touching this test), called without credentials.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AnonymousAccessTests(LabFixture lab)
{
    /// <summary>Routes open to everyone by design, by route pattern and method.</summary>
    private static readonly HashSet<string> Open = new(StringComparer.Ordinal)
    {
        "POST /api/agents/enrol", // checks the enrolment secret itself
        "GET /healthz",
        "GET /login",
        "POST /login", // checks antiforgery and the token itself
        "POST /logout",
        "POST /hooks/{forge}/{repository}", // forge deliveries: each checks its repository's secret (Forges/WebhooksTests)
    };

    public static IEnumerable<(string Method, string Pattern, string Url)> Routes(IServiceProvider services)
    {
        var source = services.GetRequiredService<EndpointDataSource>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];
            var url = Url(endpoint.RoutePattern);
            foreach (var method in methods)
                yield return (method, "/" + endpoint.RoutePattern.RawText!.TrimStart('/'), url);
        }
    }

    [Fact]
    public async Task EveryRoute_Anonymous_Returns401UnlessOpenByDesign()
    {
        var routes = Routes(lab.Services).ToList();
        Assert.True(routes.Count > 20, $"only {routes.Count} routes found");
        Assert.All(Open, open => Assert.Contains(routes, r => $"{r.Method} {r.Pattern}" == open));

        using var anonymous = lab.AnonymousClient();
        var wrong = new List<string>();
        foreach (var (method, pattern, url) in routes)
        {
            if (Open.Contains($"{method} {pattern}")) continue;
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var response = await anonymous.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Unauthorized) wrong.Add($"{method} {url} ({pattern}): {(int)response.StatusCode}");
        }
        Assert.True(wrong.Count == 0, "answered without a token:\n" + string.Join('\n', wrong));
    }

    [Fact]
    public async Task EveryRoute_PublicDashboard_OnlyReadsOpenAndAdminRoutesStayClosed()
    {
        // The fixture's own server, switched to public by configuration (a second server would share Hangfire's
        // global job activator and break the fixture's jobs). Tests of one collection never run in parallel.
        var config = (IConfigurationRoot)lab.Services.GetRequiredService<IConfiguration>();
        var options = lab.Services.GetRequiredService<IOptionsMonitor<LabOptions>>();
        config["Lab:Dashboard:Access"] = "public";
        config.Reload();
        try
        {
            Assert.True(options.CurrentValue.Dashboard.IsPublic);
            await AssertPublicModeAsync(lab.AnonymousClient(), Routes(lab.Services).ToList());
        }
        finally
        {
            config["Lab:Dashboard:Access"] = "login";
            config.Reload();
        }
        Assert.False(options.CurrentValue.Dashboard.IsPublic);
    }

    private static async Task AssertPublicModeAsync(HttpClient anonymous, List<(string Method, string Pattern, string Url)> routes)
    {
        var wrong = new List<string>();
        foreach (var (method, pattern, url) in routes)
        {
            if (Open.Contains($"{method} {pattern}")) continue;
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var response = await anonymous.SendAsync(request);
            var closed = response.StatusCode == HttpStatusCode.Unauthorized;
            var mustBeClosed = method is not ("GET" or "HEAD") || pattern.StartsWith("/hangfire", StringComparison.Ordinal)
                || pattern.StartsWith("/api/users", StringComparison.Ordinal) || pattern.StartsWith("/api/repositories", StringComparison.Ordinal)
                || pattern.StartsWith("/api/agent/", StringComparison.Ordinal) || pattern == "/api/me";
            if (mustBeClosed != closed) wrong.Add($"{method} {url}: {(int)response.StatusCode}");
        }
        Assert.True(wrong.Count == 0, "public mode:\n" + string.Join('\n', wrong));
    }

    private static string Url(RoutePattern pattern)
    {
        var parts = new List<string>();
        foreach (var segment in pattern.PathSegments)
        {
            var text = "";
            foreach (var part in segment.Parts)
            {
                text += part switch
                {
                    RoutePatternLiteralPart l => l.Content,
                    RoutePatternSeparatorPart s => s.Content,
                    RoutePatternParameterPart p => Value(pattern, p),
                    _ => "",
                };
            }
            parts.Add(text);
        }
        return "/" + string.Join('/', parts);
    }

    private static string Value(RoutePattern pattern, RoutePatternParameterPart p)
    {
        var constraints = pattern.ParameterPolicies.TryGetValue(p.Name, out var policies) ? policies.Select(x => x.Content ?? "").ToList() : [];
        if (constraints.Contains("guid")) return Guid.NewGuid().ToString();
        if (constraints.Any(c => c is "int" or "long")) return "0";
        return "x";
    }
}
