using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class PushServiceTests(LabFixture lab)
{
    [Fact]
    public async Task PushAsync_EnqueueFails_RunStoredPendingAndPushSucceeds()
    {
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag("t" + Guid.NewGuid().ToString("N")[..8]));
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LabDbContext>();
        var sut = new PushService(db, new UnavailableHangfire(), TimeProvider.System,
            sp.GetRequiredService<ILogger<PushService>>());

        var admin = new System.Security.Claims.ClaimsPrincipal(Server.Identity.Roles.Identity(Guid.NewGuid(), "admin", Server.Identity.Roles.Admin, "test", null));
        var (runId, commit) = await sut.PushAsync(new PushRequest(repo.Path, "main"), admin, CancellationToken.None);

        var run = await lab.RunAsync(runId);
        Assert.Null(commit);
        Assert.True(run.Resolving);
        Assert.Equal(Outcome.Pending, run.Outcome);
        Assert.Equal("resolving branch 'main'", run.Detail);
        Assert.Empty(run.Jobs);
    }

    [Theory]
    [InlineData("https://example.invalid/kernel.git")]
    [InlineData("git@example.invalid:lab/kernel.git")]
    [InlineData("ssh://git@example.invalid/kernel")]
    public void NormaliseRepository_Url_KeptAsGiven(string url) =>
        Assert.Equal(url, PushService.NormaliseRepository(url));

    [Fact]
    public void NormaliseRepository_RelativePath_BecomesAbsolute() =>
        Assert.Equal(Path.GetFullPath("some/repo"), PushService.NormaliseRepository("some/repo/"));

    [Theory]
    [InlineData("")]
    [InlineData("--upload-pack=evil")]
    public void NormaliseRepository_Invalid_Rejected(string repository) =>
        Assert.Throws<PushRejectedException>(() => PushService.NormaliseRepository(repository));

    /// <summary>Hangfire's storage refusing every enqueue.</summary>
    private sealed class UnavailableHangfire : IBackgroundJobClient
    {
        public string Create(Job job, IState state) =>
            throw new BackgroundJobClientException("storage unavailable", new InvalidOperationException("connection refused"));

        public bool ChangeState(string jobId, IState state, string expectedState) => false;
    }
}
