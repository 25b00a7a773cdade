using System.Net;
using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Server;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Server;

public sealed class LabServerClientTests : IDisposable
{
    private readonly AgentHarness _agent = new(TimeProvider.System);

    public void Dispose() => _agent.Dispose();

    [Fact]
    public async Task NextJobAsync_NoJobQueued_ReturnsNull()
    {
        var job = await _agent.Client.NextJobAsync(CancellationToken.None);

        Assert.Null(job);
        Assert.Contains("GET /api/agent/jobs/next", _agent.Server.Requests);
    }

    [Fact]
    public async Task NextJobAsync_JobQueued_ReturnsAssignment()
    {
        var queued = new JobAssignment(Guid.NewGuid(), Guid.NewGuid(), "/repo", "abc", "p.yaml", "name: x", "default", "qemu-0", 30);
        _agent.Server.Enqueue(queued);

        var job = await _agent.Client.NextJobAsync(CancellationToken.None);

        Assert.Equal(queued, job);
    }

    [Fact]
    public async Task NextJobAsync_ServerUnavailable_RetriesUntilItAnswers()
    {
        _agent.Server.Fail("/jobs/next", 5);

        var job = await _agent.Client.NextJobAsync(CancellationToken.None);

        Assert.Null(job);
        Assert.Equal(6, _agent.Server.Requests.Count(r => r.EndsWith("/jobs/next", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task HeartbeatAsync_Transient503_Retried()
    {
        _agent.Server.Fail("/heartbeat", 2);

        var answer = await _agent.Client.HeartbeatAsync(Guid.NewGuid(), CancellationToken.None);

        Assert.True(answer.Continue);
        Assert.Equal(3, _agent.Server.Requests.Count(r => r.EndsWith("/heartbeat", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CompleteAsync_BadRequest_ThrowsWithoutRetrying()
    {
        _agent.Server.Fail("/complete", 1, HttpStatusCode.BadRequest);

        var e = await Assert.ThrowsAsync<LabServerException>(() => _agent.Client.CompleteAsync(Guid.NewGuid(), new JobCompletion(Outcome.Passed, null), CancellationToken.None));

        Assert.Equal(400, e.Status);
        Assert.Single(_agent.Server.Requests, r => r.EndsWith("/complete", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CompleteAsync_Outcome_SentAsCamelCaseName()
    {
        var job = Guid.NewGuid();

        await _agent.Client.CompleteAsync(job, new JobCompletion(Outcome.KernelPanic, "boom"), CancellationToken.None);

        Assert.Equal(new JobCompletion(Outcome.KernelPanic, "boom"), _agent.Server.Completions[job]);
        var json = System.Text.Json.JsonSerializer.Serialize(new JobCompletion(Outcome.KernelPanic, null), ServerJson.Options);
        Assert.Contains("\"kernelPanic\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyAgentRoute_TokenVoided_ReenrolsOnceAndRepeatsTheCall()
    {
        await _agent.Client.PutMachinesAsync([], CancellationToken.None);
        _agent.Server.VoidTokens();

        await _agent.Client.PutMachinesAsync([], CancellationToken.None);

        Assert.Equal(2, _agent.Server.Enrolments);
        Assert.Equal("token-2", _agent.Tokens.Load()!.Token);
    }

    [Fact]
    public async Task AnyAgentRoute_401WithoutSecret_ThrowsClearError()
    {
        _agent.Options.EnrolmentSecret = null;
        _agent.Tokens.Save(new StoredToken(_agent.Options.Server, Guid.NewGuid(), "stale"));

        var e = await Assert.ThrowsAsync<AgentAuthException>(() => _agent.Client.HeartbeatAsync(Guid.NewGuid(), CancellationToken.None));

        Assert.Contains("EnrolmentSecret", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _agent.Server.Enrolments);
    }

    [Fact]
    public async Task PutArtifactAsync_Transient503_EveryAttemptSendsTheWholeFileAndLeavesItClosed()
    {
        var job = Guid.NewGuid();
        var file = Path.Combine(Path.GetTempPath(), "agent-artifact-" + Guid.NewGuid().ToString("N"));
        var text = string.Concat(Enumerable.Range(0, 50_000).Select(i => $"line {i}\n"));
        await File.WriteAllTextAsync(file, text);
        try
        {
            _agent.Server.Fail("/artifacts/initfs.img", 2);

            await _agent.Client.PutArtifactAsync(job, "initfs.img", file, CancellationToken.None);

            Assert.Equal(3, _agent.Server.Requests.Count(r => r.EndsWith("/artifacts/initfs.img", StringComparison.Ordinal)));
            Assert.Equal(text, _agent.Server.Artifacts[(job, "initfs.img")]);
            // Each attempt's stream was disposed with its request: the file can be opened exclusively again.
            await using var exclusive = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
