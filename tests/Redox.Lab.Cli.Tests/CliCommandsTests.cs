using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Redox.Lab.Contracts.Api;
using Xunit;

namespace Redox.Lab.Cli.Tests;

public sealed class CliCommandsTests
{
    private static readonly Guid RunId = Guid.Parse("6a1f0c2e-0b7e-4c1a-9f3d-2b5e8c7d9a10");

    [Fact]
    public async Task WatchAsync_RunEndedBeforeItsVerdict_WaitsForTheVerdictAndExitsByIt()
    {
        // The run passed, but its baseline boots are still running: the verdict, when it comes, is a regression.
        var lab = new FakeLab(
            new RunVerdictsView(RunId, "push", "abc", "def", "merge base", false, 1, [], []),
            new RunVerdictsView(RunId, "push", "abc", "def", "merge base", true, 0,
                [new VerdictView("a/m", "default", "stage", "stage:kmain-done", "regression", "ms", "lower", 5, 5, 1, 2, 1, 0.5, 1.5, 1, 0.001, 0.02, "default", 1, null, null, null)], []));
        using var http = new HttpClient(lab) { BaseAddress = new Uri("http://lab.test") };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var clock = new FakeTimeProvider();

        var watching = CliCommands.WatchAsync(new Cli(http, stdout, stderr, Json: false, clock), RunId, TimeSpan.FromMinutes(10), CancellationToken.None);
        while (!watching.IsCompleted)
        {
            // Lets the poll's delay (on the fake clock) pass whenever the command waits on it.
            await Task.WhenAny(watching, Task.Delay(20));
            clock.Advance(CliCommands.VerdictPoll);
        }

        Assert.Equal(ExitCodes.Failed, await watching);
        var printed = stdout.ToString();
        Assert.Contains("run ended: passed", printed, StringComparison.Ordinal);
        Assert.Contains("judging: 1 baseline or extra runs pending", printed, StringComparison.Ordinal);
        Assert.Contains("REGRESSION a/m default stage:kmain-done", printed, StringComparison.Ordinal);
        Assert.True(printed.IndexOf("judging", StringComparison.Ordinal) < printed.IndexOf("outcome: passed", StringComparison.Ordinal), printed);
        // Asked twice while waiting (not judged, then judged), once more for the results it printed.
        Assert.Equal(3, lab.VerdictRequests);
    }

    [Fact]
    public async Task ImportProfileAsync_SeveralFiles_EachUploadedAndTheirGroupPrinted()
    {
        var dir = Directory.CreateTempSubdirectory("lab-cli-import-");
        try
        {
            var files = new[] { "boot1.folded", "boot2.folded" }.Select(n => new FileInfo(Path.Combine(dir.FullName, n))).ToList();
            foreach (var f in files) await File.WriteAllTextAsync(f.FullName, "kernel;kmain 3\n");
            var lab = new ImportLab();
            using var http = new HttpClient(lab) { BaseAddress = new Uri("http://lab.test") };
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();

            var code = await CliCommands.ImportProfileAsync(new Cli(http, stdout, stderr, Json: false, new FakeTimeProvider()), files, RunId, "rmm", null, CancellationToken.None);

            Assert.Equal(ExitCodes.Ok, code);
            Assert.Equal(["rmm, boot1.folded", "rmm, boot2.folded"], lab.Names);
            Assert.Equal(["folded", "folded"], lab.Formats);
            var printed = stdout.ToString();
            Assert.Contains("import:1: rmm, boot1.folded, 3 samples, 1 stacks", printed, StringComparison.Ordinal);
            Assert.Contains("group of 2: import:1,import:2", printed, StringComparison.Ordinal);
            Assert.Contains("/profiles/flamegraph?profile=import:1,import:2", printed, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ImportProfileAsync_OneFileMissing_NothingUploaded()
    {
        var lab = new ImportLab();
        using var http = new HttpClient(lab) { BaseAddress = new Uri("http://lab.test") };
        var existing = new FileInfo(typeof(CliCommandsTests).Assembly.Location);
        var missing = new FileInfo(Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid()}.folded"));

        await Assert.ThrowsAsync<CliUsageException>(() =>
            CliCommands.ImportProfileAsync(new Cli(http, TextWriter.Null, TextWriter.Null, Json: false, new FakeTimeProvider()), [existing, missing], RunId, null, null, CancellationToken.None));

        Assert.Empty(lab.Names);
    }

    /// <summary>The upload route: answers each upload as created, numbering them import:1, import:2, ...</summary>
    private sealed class ImportLab : HttpMessageHandler
    {
        public List<string> Names { get; } = [];
        public List<string> Formats { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal(HttpMethod.Post, request.Method);
            Assert.Equal($"/api/runs/{RunId}/profiles", request.RequestUri!.AbsolutePath);
            var query = System.Web.HttpUtility.ParseQueryString(request.RequestUri.Query);
            Names.Add(query["name"]!);
            Formats.Add(query["format"]!);
            var view = new ImportedProfileView(Guid.NewGuid(), RunId, query["name"]!, query["format"]!, 3, 1, 0, null, DateTimeOffset.UnixEpoch, $"import:{Names.Count}");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Created)
            {
                Content = new StringContent(JsonSerializer.Serialize(view, Cli.JsonOptions), Encoding.UTF8, "application/json"),
            });
        }
    }

    /// <summary>The lab's API as <c>lab watch</c> reads it: the run's event stream, the run, and its verdicts in the given order.</summary>
    private sealed class FakeLab(params RunVerdictsView[] verdicts) : HttpMessageHandler
    {
        private static readonly JsonSerializerOptions Json = Cli.JsonOptions;
        private readonly RunEvent _headline = new(RunId, "kernel", "main", "abc", "pipelines/p.yaml", Outcome.Passed, null);

        public int VerdictRequests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            var response = new HttpResponseMessage(HttpStatusCode.OK);
            if (path == $"/api/runs/{RunId}/events")
            {
                var stream = $"event: run\ndata: {JsonSerializer.Serialize(_headline, Json)}\n\nevent: end\ndata: {JsonSerializer.Serialize(_headline, Json)}\n\n";
                response.Content = new StringContent(stream, Encoding.UTF8, "text/event-stream");
            }
            else if (path == $"/api/runs/{RunId}/verdicts")
            {
                response.Content = JsonBody(verdicts[Math.Min(VerdictRequests++, verdicts.Length - 1)]);
            }
            else if (path == $"/api/runs/{RunId}")
            {
                response.Content = JsonBody(new RunView(RunId, "kernel", "main", "abc", "pipelines/p.yaml", Outcome.Passed, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, []));
            }
            else
            {
                response.StatusCode = HttpStatusCode.NotFound;
            }
            return Task.FromResult(response);
        }

        private static StringContent JsonBody<T>(T value) => new(JsonSerializer.Serialize(value, Json), Encoding.UTF8, "application/json");
    }
}
