using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Redox.Lab.Contracts.Api;

// bench/dispatch: against a running lab with one idle agent, pushes N runs of an already-built
// kernel one after the other and measures two latencies per run:
//   push -> job received: from sending POST /api/runs to the job's assignedAt, the instant the
//                         server handed the job to the agent's waiting long poll (same host clock);
//   end marker -> result: from the host time the agent stamped on the kernel's `@@LAB end` line to
//                         the first GET /api/runs/{id} (polled every 2 ms) that shows the outcome.
// Usage: dotnet Redox.Lab.Bench.Dispatch.dll <server-url> <repo> <pipeline> [runs]
var server = args.ElementAtOrDefault(0) ?? "http://127.0.0.1:5080";
var repo = args.ElementAtOrDefault(1) ?? throw new ArgumentException("repository path needed");
var pipeline = args.ElementAtOrDefault(2) ?? "pipelines/prebuilt.yaml";
var runs = int.Parse(args.ElementAtOrDefault(3) ?? "20", CultureInfo.InvariantCulture);

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };
using var http = new HttpClient { BaseAddress = new Uri(server) };
// The admin token lab-start.sh wrote (mode 600); never an argument.
if (Environment.GetEnvironmentVariable("LAB_TOKEN_FILE") is { Length: > 0 } tokenFile)
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(tokenFile).Trim());
var toJob = new List<double>();
var toResult = new List<double>();

for (var i = 0; i < runs; i++)
{
    await Task.Delay(500); // the agent is back in its long poll: it is idle when we push
    var pushedAt = DateTimeOffset.UtcNow;
    using var response = await http.PostAsJsonAsync("/api/runs", new PushRequest(repo, Branch: "main", Pipeline: pipeline), json);
    response.EnsureSuccessStatusCode();
    var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(json))!;

    RunView run;
    DateTimeOffset visibleAt;
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        run = (await http.GetFromJsonAsync<RunView>($"/api/runs/{pushed.RunId}", json))!;
        visibleAt = DateTimeOffset.UtcNow;
        if (run.Outcome != Outcome.Pending)
        {
            break;
        }

        if (deadline.Elapsed > TimeSpan.FromMinutes(3))
        {
            throw new TimeoutException($"run {pushed.RunId} did not finish");
        }

        await Task.Delay(2);
    }

    // The last attempt: an infrastructure failure is retried as a new job (API.md).
    var job = run.Jobs.MaxBy(j => j.Attempt)!;
    var console = (await http.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{job.Id}/console?from=0&limit=100000", json))!;
    var end = console.LastOrDefault(l => l.Text.Contains("@@LAB end ", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"run {pushed.RunId} ({run.Outcome}) has no end marker");
    toJob.Add((job.AssignedAt!.Value - pushedAt).TotalMilliseconds);
    toResult.Add((visibleAt - end.HostTime).TotalMilliseconds);
    Console.WriteLine($"run {i + 1,2}/{runs}: {run.Outcome.ToName(),-8} push->job {toJob[^1],8:0.0} ms   end->result {toResult[^1],8:0.0} ms");
}

Console.WriteLine();
Console.WriteLine($"{"latency",-26} {"median ms",10} {"p95 ms",10} {"target ms",10}");
Report("push -> job received", toJob, 100);
Report("end marker -> result (API)", toResult, 500);

static void Report(string name, List<double> ms, double target)
{
    var sorted = ms.Order().ToList();
    double Pct(double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
    var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    Console.WriteLine($"{name,-26} {median,10:0.0} {Pct(0.95),10:0.0} {target,10:0} {(median < target ? "ok" : "MISSED")}");
}
