using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Runs;

[Collection(LabCollection.Name)]
public sealed class ResolvePushJobTests(LabFixture lab)
{
    [Fact]
    public async Task RunAsync_RemoteNeverAnswers_PushAnsweredAtOnceThenRunErrorsAndGitIsKilled()
    {
        // A real git remote that never answers: git:// to a listener that accepts, reads the request and stays silent.
        using var remote = new SilentRemote();
        var registered = await lab.RegisterRepoAsync($"git://127.0.0.1:{remote.Port}/kernel.git");

        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(registered.Name, "main"), LabFixture.Json);

        // Answered while git is still hanging (the push path runs no git at all): the run is recorded, still resolving.
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        var pending = await lab.RunAsync(pushed.RunId);
        Assert.Equal(Outcome.Pending, pending.Outcome);
        Assert.True(pending.Resolving);

        // Within the configured bound (Lab:Git:TotalTimeoutSeconds) the run ends with its reason, and every git
        // process that reached the remote was killed (its connection closed); the wait below is only a test timeout.
        var run = await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null, timeoutMs: 120_000);
        Assert.Equal(Outcome.Error, run.Outcome);
        Assert.False(run.Resolving);
        Assert.Contains($"repository {registered.Name} did not answer within {LabFixture.GitTotalTimeoutSeconds} s", run.Detail, StringComparison.Ordinal);
        Assert.True(remote.Accepted >= 1);
        await remote.AllClosed().WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task RunAsync_PushRecordedBeforeFetchThatFailed_EndsWithThatFailureWithoutFetching()
    {
        var missing = Path.Combine(lab.TempDir, "gone-" + Guid.NewGuid().ToString("N")[..8]);
        var registered = await lab.RegisterRepoAsync(missing);
        var first = await PushAndWaitAsync(registered.Name);
        Assert.Equal(Outcome.Error, first.Outcome);

        // Made to look recorded before the first fetch: the failed fetch speaks for it (the repository is still gone).
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var clock = new FakeTimeProvider(first.CreatedAt - TimeSpan.FromSeconds(1));
        var push = new PushService(sp.GetRequiredService<LabDbContext>(), new NoHangfire(), clock, sp.GetRequiredService<ILogger<PushService>>());
        var (runId, _) = await push.PushAsync(new PushRequest(registered.Name, "main"), Admin(), CancellationToken.None);

        await sp.GetRequiredService<ResolvePushJob>().RunAsync(runId, CancellationToken.None);

        var run = await lab.RunAsync(runId);
        Assert.Equal(Outcome.Error, run.Outcome);
        Assert.Equal(first.Detail, run.Detail);
    }

    [Fact]
    public async Task ScheduleStalledRuns_PushWhoseResolutionWasLost_ResolvedAndScheduled()
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("lost-resolve-" + tag, ["x86_64", tag]);
        var repo = await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag));
        await using var scope = lab.Scope();
        var sp = scope.ServiceProvider;
        var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<LabOptions>>().Value;
        // Recorded long ago, and its enqueue lost.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow - options.Git.TotalTimeout - 2 * ScheduleStalledRunsJob.StalledAfter);
        var push = new PushService(sp.GetRequiredService<LabDbContext>(), new NoHangfire(), clock, sp.GetRequiredService<ILogger<PushService>>());
        var (runId, _) = await push.PushAsync(new PushRequest(repo.Path, "main"), Admin(), CancellationToken.None);
        Assert.True((await lab.RunAsync(runId)).Resolving);

        Assert.Contains(runId, await sp.GetRequiredService<ScheduleStalledRunsJob>().RunAsync(CancellationToken.None));

        var run = await lab.WaitForRunAsync(runId, r => r.Jobs.Count == Repo.ReferenceVariants.Count, timeoutMs: 60_000);
        Assert.False(run.Resolving);
        Assert.Equal(await repo.GitAsync("rev-parse", "HEAD"), run.Commit);
    }

    private async Task<RunView> PushAndWaitAsync(string repository)
    {
        using var client = lab.Client();
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repository, "main"), LabFixture.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(LabFixture.Json))!;
        return await lab.WaitForRunAsync(pushed.RunId, r => r.EndedAt is not null);
    }

    private static System.Security.Claims.ClaimsPrincipal Admin() =>
        new(Server.Identity.Roles.Identity(Guid.NewGuid(), "admin", Server.Identity.Roles.Admin, "test", null));

    /// <summary>Hangfire's storage refusing every enqueue: the run is stored, its resolution never scheduled.</summary>
    private sealed class NoHangfire : Hangfire.IBackgroundJobClient
    {
        public string Create(Hangfire.Common.Job job, Hangfire.States.IState state) =>
            throw new Hangfire.BackgroundJobClientException("storage unavailable", new InvalidOperationException("connection refused"));

        public bool ChangeState(string jobId, Hangfire.States.IState state, string expectedState) => false;
    }

    /// <summary>A TCP server that accepts, reads whatever the client sends and never writes; counts connections closed by the client.</summary>
    private sealed class SilentRemote : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private TaskCompletionSource _closedOne = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _accepted;
        private int _closed;

        public SilentRemote()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Accepted => Volatile.Read(ref _accepted);
        public int Closed => Volatile.Read(ref _closed);

        /// <summary>Completes when every connection accepted so far has been closed by its client.</summary>
        public async Task AllClosed()
        {
            while (true)
            {
                var next = Volatile.Read(ref _closedOne).Task;
                if (Closed >= Accepted) return;
                await next;
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                    _ = HoldAsync(socket);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task HoldAsync(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[4096];
                try
                {
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                }
            }
            Interlocked.Increment(ref _closed);
            Interlocked.Exchange(ref _closedOne, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
