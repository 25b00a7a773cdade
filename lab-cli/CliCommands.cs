using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>The command table of lab-cli; each command is one static method.</summary>
public static class CliCommands
{
    public const string Usage = """
        usage:
          lab-cli push --repo <path|url> [--branch <b> | --commit <c>] [--pipeline <path>] [--server <url>] [--wait] [--timeout <s>]
          lab-cli show <run-id> [--server <url>]
          lab-cli compare <a> <b> [--server <url>]      (run or job ids; b is judged against a)
          lab-cli import-profile <file> --run <run-id> [--name <name>] [--format folded|perf-script] [--server <url>]
        import-profile uploads a profile recorded elsewhere to a run (format from the extension: .folded is
        folded stacks, anything else perf-script text, folded by the server as it streams in).
        The server defaults to $LAB_SERVER or http://127.0.0.1:5080.
        push --wait exits 0 when the run passed, 1 when it did not, 2 on usage or connection errors.
        compare exits 0 without a regression, 1 with one (a merge gate), 2 on usage or connection errors.
        """;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var options = CliOptions.Parse(args);
            // An upload of a large perf-script file may take longer than a minute.
            var timeout = options.Command == "import-profile" ? TimeSpan.FromMinutes(30) : TimeSpan.FromSeconds(60);
            using var http = new HttpClient { BaseAddress = new Uri(options.Server), Timeout = timeout };
            return options.Command switch
            {
                "push" => await PushAsync(http, options, stdout, stderr),
                "show" => await ShowAsync(http, options, stdout, stderr),
                "compare" => await CompareAsync(http, options, stdout, stderr),
                "import-profile" => await ImportProfileAsync(http, options, stdout, stderr),
                _ => Fail(stderr, Usage),
            };
        }
        catch (CliUsageException e)
        {
            return Fail(stderr, $"lab-cli: {e.Message}\n{Usage}");
        }
        catch (HttpRequestException e)
        {
            return Fail(stderr, $"lab-cli: cannot reach the lab server: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            return Fail(stderr, "lab-cli: the lab server did not answer within 60 s");
        }
    }

    private static async Task<int> PushAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        var repo = o.Require("repo");
        if (Directory.Exists(repo))
        {
            repo = Path.GetFullPath(repo);
        }

        var commit = o.Get("commit");
        if (commit is not null && Directory.Exists(repo) && !IsHex(commit))
        {
            // A local repository: a ref such as HEAD or main~2 is resolved here, where it means something.
            commit = await LocalGit.RevParseAsync(repo, commit);
        }

        var request = new PushRequest(repo, o.Get("branch"), commit, o.Get("pipeline") ?? "pipelines/redox-reference.yaml");
        using var response = await http.PostAsJsonAsync("/api/runs", request, Json);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            return Fail(stderr, $"lab-cli: push refused ({(int)response.StatusCode}): {ProblemDetail(body)}");
        }

        var pushed = (await response.Content.ReadFromJsonAsync<PushResponse>(Json))!;
        stdout.WriteLine($"run {pushed.RunId} for commit {pushed.Commit}: {new Uri(http.BaseAddress!, pushed.Url)}");
        if (!o.Has("wait"))
        {
            return 0;
        }

        var timeout = double.TryParse(o.Get("timeout") ?? "1800", NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw new CliUsageException($"--timeout '{o.Get("timeout")}' is not a number of seconds");
        var run = await WaitAsync(http, pushed.RunId, timeout);
        if (run is null)
        {
            return Fail(stderr, $"lab-cli: run {pushed.RunId} did not finish within {timeout.TotalSeconds:0} s");
        }

        RunPrinter.Print(run, stdout);
        return run.Outcome == Outcome.Passed ? 0 : 1;
    }

    private static async Task<int> ShowAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        var id = Guid.TryParse(o.Positional.FirstOrDefault(), out var g) ? g : throw new CliUsageException("show needs a run id");
        using var response = await http.GetAsync($"/api/runs/{id}");
        if (!response.IsSuccessStatusCode)
        {
            return Fail(stderr, $"lab-cli: cannot show run {id} ({(int)response.StatusCode}): {ProblemDetail(await response.Content.ReadAsStringAsync())}");
        }

        RunPrinter.Print((await response.Content.ReadFromJsonAsync<RunView>(Json))!, stdout);
        return 0;
    }

    private static async Task<int> ImportProfileAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        var file = o.Positional.FirstOrDefault() ?? throw new CliUsageException("import-profile needs a file");
        var run = Guid.TryParse(o.Require("run"), out var r) ? r : throw new CliUsageException("--run is not a run id");
        if (!File.Exists(file))
        {
            return Fail(stderr, $"lab-cli: no file {file}");
        }

        var format = o.Get("format") ?? (file.EndsWith(".folded", StringComparison.OrdinalIgnoreCase) ? "folded" : "perf-script");
        if (format is not ("folded" or "perf-script"))
        {
            throw new CliUsageException("--format must be folded or perf-script");
        }

        var name = o.Get("name") ?? Path.GetFileName(file);
        await using var stream = File.OpenRead(file);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        using var response = await http.PostAsync($"/api/runs/{run}/profiles?name={Uri.EscapeDataString(name)}&format={format}", content);
        if (!response.IsSuccessStatusCode)
        {
            return Fail(stderr, $"lab-cli: import refused ({(int)response.StatusCode}): {ProblemDetail(await response.Content.ReadAsStringAsync())}");
        }

        var view = (await response.Content.ReadFromJsonAsync<ImportedProfileView>(Json))!;
        stdout.WriteLine($"{view.Ref}: {view.Name}, {view.Samples} samples, {view.Stacks} stacks" + (view.SkippedLines > 0 ? $", {view.SkippedLines} lines skipped" : ""));
        stdout.WriteLine($"  flamegraph: {new Uri(http.BaseAddress!, $"/profiles/flamegraph?profile={view.Ref}")}");
        return 0;
    }

    private static async Task<int> CompareAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        if (o.Positional.Count != 2 || !Guid.TryParse(o.Positional[0], out var a) || !Guid.TryParse(o.Positional[1], out var b))
        {
            throw new CliUsageException("compare needs two run or job ids: compare <a> <b>");
        }

        using var response = await http.GetAsync($"/api/compare?a={a}&b={b}");
        if (!response.IsSuccessStatusCode)
        {
            return Fail(stderr, $"lab-cli: cannot compare ({(int)response.StatusCode}): {ProblemDetail(await response.Content.ReadAsStringAsync())}");
        }

        var comparison = (await response.Content.ReadFromJsonAsync<CompareView>(Json))!;
        ComparePrinter.Print(comparison, stdout);
        return comparison.HasRegression ? 1 : 0;
    }

    private static async Task<RunView?> WaitAsync(HttpClient http, Guid runId, TimeSpan timeout)
    {
        var until = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < until)
        {
            try
            {
                var run = await http.GetFromJsonAsync<RunView>($"/api/runs/{runId}", Json);
                if (run is { Outcome: not Outcome.Pending })
                {
                    return run;
                }
            }
            catch (HttpRequestException)
            {
                // The run is stored; a server or database restarting while we wait is not the end of it.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        return null;
    }

    private static bool IsHex(string s) => s.Length >= 4 && s.All(Uri.IsHexDigit);

    private static string ProblemDetail(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        return 2;
    }
}
