using System.CommandLine;
using System.Net.Http.Headers;

namespace Redox.Lab.Cli;

/// <summary>
/// The <c>lab</c> command line, on System.CommandLine: one <see cref="Command"/> per verb, unknown options and extra
/// arguments are errors (exit 2), <c>--help</c> everywhere. Each action runs with a <see cref="Cli"/>: the HTTP client
/// (server and token resolved by <see cref="LabConfig"/>), the writers and <c>--json</c>.
/// </summary>
public static class LabCommandLine
{
    public static readonly Option<string?> ServerOption = new("--server") { Description = "The lab's URL (else $LAB_SERVER, the config file, http://127.0.0.1:5080)", Recursive = true };
    public static readonly Option<string?> TokenFileOption = new("--token-file") { Description = "File holding your API token (else $LAB_TOKEN_FILE, the config file, ~/.config/redox-lab/token)", Recursive = true };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "JSON for scripts instead of tables", Recursive = true };

    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Redox Lab: push a kernel branch, follow its boots, read results. Exit codes: 0 passed, 1 failed or regressed, 2 usage or lab refused, 3 undecided (lab error, cancelled, timeout).");
        root.Options.Add(ServerOption);
        root.Options.Add(TokenFileOption);
        root.Options.Add(JsonOption);

        // push
        var repo = new Option<string?>("--repo") { Description = "Registered repository name, or its path/URL (default: the current git repository)" };
        var branch = new Option<string?>("--branch") { Description = "Branch to test (default: the current branch)" };
        var commit = new Option<string?>("--commit") { Description = "A commit (or a ref of the local repository) instead of a branch" };
        var pipeline = new Option<string>("--pipeline") { Description = "Pipeline file in the repository", DefaultValueFactory = _ => "pipelines/redox-reference.yaml" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to end, print its results, exit by its outcome" };
        var watch = new Option<bool>("--watch") { Description = "Follow the run live (as lab watch), exit by its outcome" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait or watch", DefaultValueFactory = _ => 3600 };
        var push = new Command("push", "Test a branch (default: the current repository's current branch)") { repo, branch, commit, pipeline, wait, watch, timeout };
        Bind(push, stdout, stderr, (cli, r, ct) => CliCommands.PushAsync(cli, r.GetValue(repo), r.GetValue(branch), r.GetValue(commit), r.GetValue(pipeline)!,
            r.GetValue(wait), r.GetValue(watch), TimeSpan.FromSeconds(r.GetValue(timeout)), ct));

        var runArg = new Argument<Guid>("run") { Description = "Run id" };
        var watchCommand = new Command("watch", "Follow a run live: jobs and stages as they happen, then its results") { runArg, timeout };
        Bind(watchCommand, stdout, stderr, (cli, r, ct) => CliCommands.WatchAsync(cli, r.GetValue(runArg), TimeSpan.FromSeconds(r.GetValue(timeout)), ct));

        var results = new Command("results", "A run's jobs, boots, stages, findings and verdicts") { runArg };
        Bind(results, stdout, stderr, (cli, r, ct) => CliCommands.ResultsAsync(cli, r.GetValue(runArg), ct));
        var show = new Command("show", "Same as results (kept for old hooks)") { runArg };
        Bind(show, stdout, stderr, (cli, r, ct) => CliCommands.ResultsAsync(cli, r.GetValue(runArg), ct));

        var a = new Argument<Guid>("a") { Description = "Baseline run or job id" };
        var b = new Argument<Guid>("b") { Description = "Candidate run or job id (judged against a)" };
        var compare = new Command("compare", "Judge b against a: exits 1 on a regression") { a, b };
        Bind(compare, stdout, stderr, (cli, r, ct) => CliCommands.CompareAsync(cli, r.GetValue(a), r.GetValue(b), ct));

        var machines = new Command("machines", "The lab's machines and their health");
        Bind(machines, stdout, stderr, (cli, _, ct) => CliCommands.MachinesAsync(cli, ct));

        var jobArg = new Argument<Guid>("job") { Description = "Job id (lab results shows them)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing lines as they arrive until the job ends" };
        var from = new Option<long>("--from") { Description = "First line number", DefaultValueFactory = _ => 0 };
        var logs = new Command("logs", "A job's console, control characters escaped") { jobArg, follow, from };
        Bind(logs, stdout, stderr, (cli, r, ct) => CliCommands.LogsAsync(cli, r.GetValue(jobArg), r.GetValue(from), r.GetValue(follow), ct));

        var cancelCommand = new Command("cancel", "Cancel a run: queued jobs at once, running ones at their next heartbeat") { runArg };
        Bind(cancelCommand, stdout, stderr, (cli, r, ct) => CliCommands.CancelAsync(cli, r.GetValue(runArg), ct));

        var file = new Argument<FileInfo[]>("files") { Description = "Folded stacks (.folded) or perf-script text; several: one upload each, and their group", Arity = ArgumentArity.OneOrMore };
        var profileRun = new Option<Guid>("--run") { Description = "The run to attach it to", Required = true };
        var profileName = new Option<string?>("--name") { Description = "Name (default: the file's name; with several files, put before each file's name)" };
        var format = new Option<string?>("--format") { Description = "folded or perf-script (default: by extension)" };
        format.AcceptOnlyFromAmong("folded", "perf-script");
        var import = new Command("import-profile", "Upload profiles recorded elsewhere to a run") { file, profileRun, profileName, format };
        Bind(import, stdout, stderr, (cli, r, ct) => CliCommands.ImportProfileAsync(cli, r.GetValue(file)!, r.GetValue(profileRun), r.GetValue(profileName), r.GetValue(format), ct));

        root.Subcommands.Add(push);
        root.Subcommands.Add(watchCommand);
        root.Subcommands.Add(results);
        root.Subcommands.Add(show);
        root.Subcommands.Add(compare);
        root.Subcommands.Add(machines);
        root.Subcommands.Add(logs);
        root.Subcommands.Add(cancelCommand);
        root.Subcommands.Add(import);
        AdminCommands.Add(root, stdout, stderr);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct = default)
    {
        var root = Build(stdout, stderr);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"lab: {error.Message}");
            stderr.WriteLine("lab: see 'lab --help'");
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct);
    }

    internal static void Bind(Command command, TextWriter stdout, TextWriter stderr, Func<Cli, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parsed, ct) =>
        {
            try
            {
                var config = LabConfig.Resolve(parsed.GetValue(ServerOption), parsed.GetValue(TokenFileOption));
                using var http = new HttpClient { BaseAddress = new Uri(config.Server), Timeout = Timeout.InfiniteTimeSpan };
                if (config.ReadToken(stderr) is { } token) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return await action(new Cli(http, stdout, stderr, parsed.GetValue(JsonOption)), parsed, ct);
            }
            catch (CliUsageException e)
            {
                return Cli.Fail(stderr, $"lab: {e.Message}");
            }
            catch (LabRefusedException e)
            {
                return Cli.Fail(stderr, $"lab: {e.Message}");
            }
            catch (UriFormatException e)
            {
                return Cli.Fail(stderr, $"lab: the server is not a URL: {e.Message}");
            }
            catch (HttpRequestException e)
            {
                return Cli.Fail(stderr, $"lab: cannot reach the lab server: {e.Message}");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return Cli.Fail(stderr, "lab: interrupted");
            }
            catch (TaskCanceledException)
            {
                return Cli.Fail(stderr, "lab: the lab server did not answer in time");
            }
        });
}
