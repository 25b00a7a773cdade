using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Console;

public sealed class ConsoleUploaderTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly AgentHarness _agent = new(TimeProvider.System);
    private readonly Guid _job = Guid.NewGuid();

    public void Dispose() => _agent.Dispose();

    [Fact]
    public async Task FlushAsync_LinesAdded_AllOnServerInOrderOnce()
    {
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 10);

        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
        Assert.Equal(10, uploader.Acknowledged);
    }

    [Fact]
    public async Task Add_ReturnsRunningIndex_PerJob()
    {
        await using var uploader = NewUploader();

        var first = uploader.Add(Line(0));
        var second = uploader.Add(Line(1));

        Assert.Equal(0, first);
        Assert.Equal(1, second);
    }

    [Fact]
    public async Task FlushAsync_ServerAnswers409_ResendsFromNextOffsetWithNothingLostOrDuplicated()
    {
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 10);
        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);
        _agent.Server.LoseConsole(_job, keep: 4);

        sent.AddRange(AddLines(uploader, 10, 10));
        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(1, _agent.Server.Conflicts);
        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
    }

    [Fact]
    public async Task FlushAsync_Transient503_RetriesWithoutDuplicates()
    {
        _agent.Server.Fail("/console", 2);
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 7);

        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
    }

    [Fact]
    public async Task FlushAsync_ResponseLostAfterStoring_ResentChunkDuplicatesNothing()
    {
        _agent.Server.Fail("/console", 1, HttpStatusCode.BadGateway, afterStoring: true);
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 5);

        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(2, _agent.Server.ConsolePosts.Count);
        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
    }

    [Fact]
    public async Task FlushAsync_ServerDownLongerThanRetries_KeepsLinesAndSendsThemLater()
    {
        _agent.Server.Fail("/console", AgentHarness.FastRetries.MaxRetries + 1);
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 3);

        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
    }

    [Fact]
    public async Task FlushAsync_ManyLines_SentInBatchesOfAtMost500()
    {
        await using var uploader = NewUploader();
        var sent = AddLines(uploader, 0, 1234);

        await uploader.FlushAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.All(_agent.Server.ConsolePosts, p => Assert.InRange(p.Lines.Count, 1, ConsoleUploader.MaxBatchLines));
        Assert.Equal(sent, _agent.Server.ConsoleOf(_job));
    }

    [Fact]
    public async Task Add_NoFlush_SentAfterBatchInterval()
    {
        var time = new FakeTimeProvider();
        await using var uploader = new ConsoleUploader(_agent.Client, _job, time, NullLogger.Instance);
        uploader.Add(Line(0));

        for (var i = 0; i < 200 && _agent.Server.ConsoleOf(_job).Count == 0; i++)
        {
            time.Advance(ConsoleUploader.BatchInterval);
            await Task.Delay(10);
        }

        Assert.Single(_agent.Server.ConsoleOf(_job));
    }

    private ConsoleUploader NewUploader() => new(_agent.Client, _job, TimeProvider.System, NullLogger.Instance);

    private static List<ConsoleLine> AddLines(ConsoleUploader uploader, int from, int count)
    {
        var lines = Enumerable.Range(from, count).Select(Line).ToList();
        foreach (var l in lines)
            uploader.Add(l);
        return lines;
    }

    private static ConsoleLine Line(int i) => new(0, DateTimeOffset.UnixEpoch.AddMilliseconds(i), $"line {i}");
}
