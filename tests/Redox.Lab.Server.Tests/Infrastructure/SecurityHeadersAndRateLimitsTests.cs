using System.Net;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Infrastructure;

/// <summary>Security headers on every response, and ASP.NET Core's rate limiter on the routes people guess at.</summary>
[Collection(LabCollection.Name)]
public sealed class SecurityHeadersAndRateLimitsTests(LabFixture lab)
{
    [Theory]
    [InlineData("/healthz", HttpStatusCode.OK)]
    [InlineData("/api/runs", HttpStatusCode.Unauthorized)]
    [InlineData("/login", HttpStatusCode.OK)]
    [InlineData("/api/runs/00000000-0000-0000-0000-000000000001", HttpStatusCode.Unauthorized)]
    public async Task AnyResponse_Anonymous_CarriesTheSecurityHeaders(string url, HttpStatusCode status)
    {
        using var anonymous = lab.AnonymousClient();

        var response = await anonymous.GetAsync(url);

        Assert.Equal(status, response.StatusCode);
        AssertHeaders(response);
    }

    [Fact]
    public async Task DashboardPage_SignedIn_CarriesTheSecurityHeaders()
    {
        using var admin = lab.Client();

        var response = await admin.GetAsync("/runs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertHeaders(response);
    }

    private static void AssertHeaders(HttpResponseMessage response)
    {
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    /// <summary>Sends <paramref name="send"/> until a 429 (at most <paramref name="tries"/> times); the limit is 3 a minute.</summary>
    private static async Task<HttpResponseMessage?> FirstRefusedAsync(Func<Task<HttpResponseMessage>> send, int tries = 10)
    {
        // Ten tries against a limit of three: even if the one-minute window turns over once during the burst, the
        // seventh try at the latest is refused.
        for (var i = 0; i < tries; i++)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return response;
        }
        return null;
    }

    private static void AssertRetryAfter(HttpResponseMessage? refused)
    {
        Assert.NotNull(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var seconds = refused.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.NotNull(seconds);
        Assert.InRange(seconds.Value, 1, 60);
    }

    [Fact]
    public async Task Enrol_WrongSecretsInABurst_429WithRetryAfter()
    {
        using var limits = lab.Configure(("Lab:RateLimits:EnrolPerMinute", "3"));
        using var anonymous = lab.AnonymousClient();

        var refused = await FirstRefusedAsync(() => anonymous.PostAsJsonAsync("/api/agents/enrol",
            new EnrolRequest("guesser", "wrong-" + Guid.NewGuid(), []), LabFixture.Json));

        AssertRetryAfter(refused);
    }

    [Fact]
    public async Task Login_WrongTokensInABurst_429WithRetryAfter()
    {
        using var limits = lab.Configure(("Lab:RateLimits:LoginPerMinute", "3"));
        using var browser = lab.BrowserClient();

        var refused = await FirstRefusedAsync(() => browser.PostAsync("/login", new FormUrlEncodedContent([new("token", "rlu_wrong")])));

        AssertRetryAfter(refused);
    }

    [Fact]
    public async Task Push_BurstFromOneUser_429WithRetryAfterAndOtherUsersStillPush()
    {
        var pusher = await lab.UserTokenAsync("pusher-" + Guid.NewGuid().ToString("N")[..6], "developer");
        using var limits = lab.Configure(("Lab:RateLimits:PushPerMinute", "3"));
        using var client = lab.Client(pusher);

        // Unregistered repositories: each push is refused (403) after the limiter let it through, so nothing runs.
        var refused = await FirstRefusedAsync(() => client.PostAsJsonAsync("/api/runs", new PushRequest("/nowhere/" + Guid.NewGuid(), "main"), LabFixture.Json));

        AssertRetryAfter(refused);
        using var admin = lab.Client();
        var other = await admin.PostAsJsonAsync("/api/runs", new PushRequest("/nowhere/" + Guid.NewGuid(), "main"), LabFixture.Json);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, other.StatusCode);
    }

    [Fact]
    public async Task CreateToken_Burst_429WithRetryAfter()
    {
        var name = "minter-" + Guid.NewGuid().ToString("N")[..6];
        var token = await lab.UserTokenAsync(name, "developer");
        using var limits = lab.Configure(("Lab:RateLimits:TokenPerMinute", "3"));
        using var client = lab.Client(token);

        var refused = await FirstRefusedAsync(() => client.PostAsJsonAsync($"/api/users/{name}/tokens", new CreateTokenRequest("burst"), LabFixture.Json));

        AssertRetryAfter(refused);
    }

    [Fact]
    public async Task Push_GitFailsInsideTheServersDirectory_RunDetailDoesNotNameTheDirectory()
    {
        var dataDir = Path.Combine(lab.TempDir, "server");
        var repo = await lab.RegisterRepoAsync(Path.Combine(dataDir, "not-a-repo-" + Guid.NewGuid().ToString("N")[..6]));
        using var admin = lab.Client();

        // The push is answered at once; git runs in the background and the run ends saying why.
        var response = await admin.PostAsJsonAsync("/api/runs", new PushRequest(repo.Url, "main"), LabFixture.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null, timeoutMs: 120_000);

        Assert.DoesNotContain(dataDir, run.Detail, StringComparison.Ordinal);
        Assert.Contains("<lab data>/not-a-repo-", run.Detail, StringComparison.Ordinal);
    }
}
