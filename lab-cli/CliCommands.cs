using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>The verbs of <c>lab</c>; each returns its exit code (<see cref="ExitCodes"/>).</summary>
public static class CliCommands
{
    public static async Task<int> PushAsync(Cli cli, string? repo, string? branch, string? commit, string pipeline, bool wait, bool watch,
        TimeSpan timeout, CancellationToken ct)
    {
        if (branch is not null && commit is not null) throw new CliUsageException("give --branch or --commit, not both");
        string? local = null;
        if (repo is null)
        {
            local = await LocalGit.TopLevelAsync(Directory.GetCurrentDirectory())
                ?? throw new CliUsageException("not in a git repository: give --repo");
            repo = local;
        }
        else if (Directory.Exists(repo))
        {
            repo = local = Path.GetFullPath(repo);
        }
        if (branch is null && commit is null)
        {
            if (local is null) throw new CliUsageException("give --branch or --commit for a repository that is not a local checkout");
            branch = await LocalGit.CurrentBranchAsync(local);
            if (branch is null) commit = await LocalGit.RevParseAsync(local, "HEAD"); // detached HEAD: its commit
        }
        if (commit is not null && local is not null && !IsHex(commit))
            commit = await LocalGit.RevParseAsync(local, commit); // a ref such as HEAD or main~2 means something here only

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new PushRequest(repo, branch, commit, pipeline), options: Cli.JsonOptions) };
        using var response = await cli.SendAsync(request, "push", ct);
        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(Cli.JsonOptions, ct))!;
        if (cli.Json && !wait && !watch) cli.WriteJson(pushed);
        else cli.Err.WriteLine($"run {pushed.RunId} for {(branch is null ? "commit" : $"{TerminalText.Clean(branch)} at")} {TerminalText.Clean(pushed.Commit)}: {new Uri(cli.Http.BaseAddress!, pushed.Url)}");
        if (watch) return await WatchAsync(cli, pushed.RunId, timeout, ct);
        if (!wait) return ExitCodes.Ok;
        var started = DateTimeOffset.UtcNow;
        var run = await WaitAsync(cli, pushed.RunId, timeout, ct);
        if (run is null) return Undecided(cli, $"run {pushed.RunId} did not end within {timeout.TotalSeconds:0} s");
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            limit.CancelAfter(timeout - (DateTimeOffset.UtcNow - started) is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            if (!await WaitForVerdictAsync(cli, pushed.RunId, limit.Token, ct))
                return Undecided(cli, $"run {pushed.RunId} was not judged within {timeout.TotalSeconds:0} s");
        }
        return await ResultsAsync(cli, pushed.RunId, ct);
    }

    /// <summary>Follows the run's event stream (GET /api/runs/{id}/events), then prints its results; reconnects if the stream drops.</summary>
    public static async Task<int> WatchAsync(Cli cli, Guid runId, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var printer = new WatchPrinter(cli.Json ? null : cli.Out);
        var ended = false;
        var failures = 0;
        while (!ended)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events");
                request.Headers.Accept.ParseAdd("text/event-stream");
                using var response = await cli.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
                if (!response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsStringAsync(limit.Token);
                    return Cli.Fail(cli.Err, $"lab: cannot watch run {runId} ({(int)response.StatusCode}): {TerminalText.Clean(Cli.ProblemDetail(body))}");
                }
                await using var stream = await response.Content.ReadAsStreamAsync(limit.Token);
                await foreach (var item in SseParser.Create(stream).EnumerateAsync(limit.Token))
                {
                    failures = 0;
                    if (cli.Json) cli.Out.WriteLine(JsonSerializer.Serialize(new { type = item.EventType, data = JsonDocument.Parse(item.Data).RootElement }, Cli.JsonOptions));
                    else printer.Print(item.EventType, item.Data);
                    if (item.EventType == "end") ended = true;
                }
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                return Undecided(cli, $"run {runId} did not end within {timeout.TotalSeconds:0} s");
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !limit.IsCancellationRequested)
            {
                // The run is stored: a server restarting while we watch is not the end of it. Back off and follow again.
                if (++failures > 30) throw;
                cli.Err.WriteLine($"lab: event stream lost ({TerminalText.Clean(e.Message)}); reconnecting");
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, failures)), limit.Token);
            }
        }
        if (!await WaitForVerdictAsync(cli, runId, limit.Token, ct))
            return Undecided(cli, $"run {runId} was not judged within {timeout.TotalSeconds:0} s");
        if (cli.Json) return await ExitForAsync(cli, runId, ct);
        cli.Out.WriteLine();
        return await ResultsAsync(cli, runId, ct);
    }

    /// <summary>
    /// After the run ended, waits for its verdict: the exit code gates a merge, and a regression or a new bug is only known
    /// once the judge has taken every boot in, the baseline's and extra boots included (they may take minutes). False when
    /// <paramref name="limit"/> ran out first.
    /// </summary>
    internal static async Task<bool> WaitForVerdictAsync(Cli cli, Guid runId, CancellationToken limit, CancellationToken ct)
    {
        var said = -1;
        try
        {
            while (true)
            {
                var verdicts = await cli.GetAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", $"verdicts of {runId}", limit);
                if (verdicts.Judged) return true;
                if (!cli.Json && verdicts.Pending != said)
                {
                    said = verdicts.Pending;
                    cli.Out.WriteLine($"{DateTime.Now:HH:mm:ss}  judging{(said > 0 ? $": {said} baseline or extra runs pending" : "")}");
                }
                await Task.Delay(VerdictPoll, cli.Time, limit);
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>How often a waiting <c>lab watch</c> asks whether the run is judged (the judge looks every 5 s).</summary>
    public static readonly TimeSpan VerdictPoll = TimeSpan.FromSeconds(2);

    public static async Task<int> ResultsAsync(Cli cli, Guid runId, CancellationToken ct)
    {
        var run = await cli.GetAsync<RunView>($"/api/runs/{runId}", $"run {runId}", ct);
        var verdicts = await cli.GetAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", $"verdicts of {runId}", ct);
        if (cli.Json) cli.WriteJson(new { run, verdicts });
        else
        {
            RunPrinter.Print(run, cli.Out);
            RunPrinter.PrintVerdicts(verdicts, cli.Out);
        }
        return ExitFor(run, verdicts);
    }

    public static async Task<int> CompareAsync(Cli cli, Guid a, Guid b, CancellationToken ct)
    {
        var comparison = await cli.GetAsync<CompareView>($"/api/compare?a={a}&b={b}", "compare", ct);
        if (cli.Json) cli.WriteJson(comparison);
        else ComparePrinter.Print(comparison, cli.Out);
        return comparison.HasRegression ? ExitCodes.Failed : ExitCodes.Ok;
    }

    public static async Task<int> MachinesAsync(Cli cli, CancellationToken ct)
    {
        var machines = await cli.GetAsync<List<MachineView>>("/api/machines", "machines", ct);
        if (cli.Json)
        {
            cli.WriteJson(machines);
            return ExitCodes.Ok;
        }
        Table.Print(cli.Out, ["agent", "machine", "driver", "health", "active", "tags", "since", "reason"],
            machines.OrderBy(m => m.Agent, StringComparer.Ordinal).ThenBy(m => m.Name, StringComparer.Ordinal).Select(m => new[]
            {
                m.Agent, m.Name, m.Driver, m.Health + (m.Drifted ? " (drifted)" : ""), m.Active ? "yes" : "no", string.Join(",", m.Tags),
                m.HealthSince?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "-", m.HealthReason ?? "",
            }));
        return ExitCodes.Ok;
    }

    /// <summary>Prints a job's console from <paramref name="from"/>; with follow, until the job has ended and every line is printed.</summary>
    public static async Task<int> LogsAsync(Cli cli, Guid jobId, long from, bool follow, CancellationToken ct)
    {
        if (from < 0) throw new CliUsageException("--from must be >= 0");
        while (true)
        {
            var state = follow ? await cli.GetAsync<JobStateView>($"/api/jobs/{jobId}/state", $"job {jobId}", ct) : null;
            var lines = await cli.GetAsync<List<ConsoleLine>>($"/api/jobs/{jobId}/console?from={from}&limit=10000", $"console of {jobId}", ct);
            foreach (var line in lines)
            {
                if (cli.Json) cli.Out.WriteLine(JsonSerializer.Serialize(line, Cli.JsonOptions));
                else cli.Out.WriteLine($"{line.HostTime.ToLocalTime():HH:mm:ss.fff} [{line.Boot}] {TerminalText.Clean(line.Text)}");
            }
            from += lines.Count;
            if (!follow) return ExitCodes.Ok;
            if (lines.Count > 0) continue;
            if (state!.State == "ended" && from >= state.ConsoleLines) return ExitCodes.Ok;
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>POST /api/runs/{id}/cancel (the cancel contract: queued jobs at once, running ones at their next heartbeat).</summary>
    public static async Task<int> CancelAsync(Cli cli, Guid runId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{runId}/cancel");
        using var response = await cli.SendAsync(request, $"cancel {runId}", ct);
        if (cli.Json) cli.Out.WriteLine(await response.Content.ReadAsStringAsync(ct));
        else cli.Out.WriteLine($"run {runId}: cancel requested (queued jobs cancelled; running jobs stop at their next heartbeat)");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Uploads each file as a profile of the run. With several files, <paramref name="name"/> (if given) is each upload's
    /// name before its file's, and the group of them all is printed too: a reference to compare them as a set of boots.
    /// </summary>
    public static async Task<int> ImportProfileAsync(Cli cli, IReadOnlyList<FileInfo> files, Guid run, string? name, string? format, CancellationToken ct)
    {
        foreach (var missing in files.Where(f => !f.Exists))
            throw new CliUsageException($"no file {missing.FullName}");
        var views = new List<ImportedProfileView>(files.Count);
        foreach (var file in files)
        {
            var fileFormat = format ?? (file.Name.EndsWith(".folded", StringComparison.OrdinalIgnoreCase) ? "folded" : "perf-script");
            var fileName = name is null ? file.Name : files.Count == 1 ? name : $"{name}, {file.Name}";
            var view = await ImportOneAsync(cli, file, run, fileName, fileFormat, ct);
            views.Add(view);
            if (cli.Json) continue;
            cli.Out.WriteLine($"{view.Ref}: {TerminalText.Clean(view.Name)}, {view.Samples} samples, {view.Stacks} stacks" + (view.SkippedLines > 0 ? $", {view.SkippedLines} lines skipped" : ""));
        }
        if (cli.Json)
        {
            if (views.Count == 1) cli.WriteJson(views[0]);
            else cli.WriteJson(views);
            return ExitCodes.Ok;
        }
        var reference = string.Join(',', views.Select(v => v.Ref));
        if (views.Count > 1) cli.Out.WriteLine($"group of {views.Count}: {reference}");
        cli.Out.WriteLine($"  flamegraph: {new Uri(cli.Http.BaseAddress!, $"/profiles/flamegraph?profile={reference}")}");
        return ExitCodes.Ok;
    }

    private static async Task<ImportedProfileView> ImportOneAsync(Cli cli, FileInfo file, Guid run, string name, string format, CancellationToken ct)
    {
        await using var stream = file.OpenRead();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{run}/profiles?name={Uri.EscapeDataString(name)}&format={format}")
        {
            Content = new StreamContent(stream) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" } } },
        };
        // An upload of a large perf-script file may take longer than a minute.
        using var response = await cli.SendAsync(request, $"import {file.Name}", ct, TimeSpan.FromMinutes(30));
        return (await response.Content.ReadFromJsonAsync<ImportedProfileView>(Cli.JsonOptions, ct))!;
    }

    /// <summary>0 passed without regression; 1 the kernel failed, regressed or has a new bug; 3 the lab could not tell.</summary>
    public static int ExitFor(RunView run, RunVerdictsView? verdicts)
    {
        if (verdicts is { HasRegression: true }) return ExitCodes.Failed;
        return run.Outcome.Kind() switch
        {
            OutcomeKind.Success => ExitCodes.Ok,
            OutcomeKind.Kernel => ExitCodes.Failed,
            _ => ExitCodes.Undecided,
        };
    }

    private static async Task<int> ExitForAsync(Cli cli, Guid runId, CancellationToken ct) =>
        ExitFor(await cli.GetAsync<RunView>($"/api/runs/{runId}", $"run {runId}", ct),
            await cli.GetAsync<RunVerdictsView>($"/api/runs/{runId}/verdicts", $"verdicts of {runId}", ct));

    private static async Task<RunView?> WaitAsync(Cli cli, Guid runId, TimeSpan timeout, CancellationToken ct)
    {
        var until = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < until)
        {
            try
            {
                var run = await cli.GetAsync<RunView>($"/api/runs/{runId}", $"run {runId}", ct);
                if (run.Outcome != Outcome.Pending) return run;
            }
            catch (HttpRequestException)
            {
                // The run is stored; a server or database restarting while we wait is not the end of it.
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        return null;
    }

    private static int Undecided(Cli cli, string message)
    {
        cli.Err.WriteLine($"lab: {message}");
        return ExitCodes.Undecided;
    }

    private static bool IsHex(string s) => s.Length >= 4 && s.All(Uri.IsHexDigit);
}
