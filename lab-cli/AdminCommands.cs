using System.CommandLine;
using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>Users, tokens, repositories and their hooks (admin routes; <c>token create</c> for your own tokens too; <c>whoami</c>).</summary>
public static class AdminCommands
{
    public static void Add(RootCommand root, TextWriter stdout, TextWriter stderr)
    {
        var name = new Option<string>("--name") { Description = "Short name ([A-Za-z0-9._-])", Required = true };
        var url = new Option<string>("--url") { Description = "Path or URL the server and agents clone from", Required = true };
        var branch = new Option<string>("--branch") { Description = "Default branch", DefaultValueFactory = _ => "main" };
        var pipelines = new Option<string>("--pipelines") { Description = "Pipeline files a push may name, comma-separated patterns", DefaultValueFactory = _ => "pipelines/*.yaml" };
        var trusted = new Option<bool>("--trusted") { Description = "Use the pushed commit's own pipeline (else the default branch's)" };
        var pushers = new Option<string>("--pushers") { Description = "Users who may push, comma-separated, or *", DefaultValueFactory = _ => "" };
        var add = new Command("add", "Register a repository") { name, url, branch, pipelines, trusted, pushers };
        LabCommandLine.Bind(add, stdout, stderr, (cli, r, ct) => RepoAddAsync(cli,
            new RepositoryView(r.GetValue(name)!, Local(r.GetValue(url)!), r.GetValue(branch)!, List(r.GetValue(pipelines)!), r.GetValue(trusted), List(r.GetValue(pushers)!)), ct));
        var list = new Command("list", "Registered repositories");
        LabCommandLine.Bind(list, stdout, stderr, RepoListAsync);

        var hookRepo = new Argument<string>("repository") { Description = "Registered repository name" };
        var forge = new Option<string>("--forge") { Description = "github, gitlab or git (post-receive hook)", Required = true };
        forge.AcceptOnlyFromAmong("github", "gitlab", "git");
        var project = new Option<string?>("--project") { Description = "The forge's owner/name of the repository" };
        var hookPipelines = new Option<string>("--pipelines") { Description = "Pipeline files each delivery runs, comma-separated", Required = true };
        var branches = new Option<string?>("--branches") { Description = "Branches to test, comma-separated patterns (* within a path segment, ** any); default all" };
        var secretFile = new Option<FileInfo?>("--secret-file") { Description = "File holding the webhook secret (kept if omitted on an update)" };
        var statusApi = new Option<string?>("--status-api") { Description = "Forge API for commit statuses (https://api.github.com, https://gitlab.example/api/v4)" };
        var statusForge = new Option<string?>("--status-forge") { Description = "github or gitlab: which API --status-api speaks (default: --forge)" };
        statusForge.AcceptOnlyFromAmong("github", "gitlab");
        var statusTokenFile = new Option<FileInfo?>("--status-token-file") { Description = "File holding the forge token statuses are posted with" };
        var hook = new Command("hook", "Set how a forge reaches the lab for this repository, and where commit statuses go")
            { hookRepo, forge, project, hookPipelines, branches, secretFile, statusApi, statusForge, statusTokenFile };
        LabCommandLine.Bind(hook, stdout, stderr, (cli, r, ct) => RepoHookAsync(cli, r.GetValue(hookRepo)!, new RepositoryHookRequest(
            r.GetValue(forge)!, List(r.GetValue(hookPipelines)!), r.GetValue(project), r.GetValue(branches) is { } b ? List(b) : null,
            ReadSecret(r.GetValue(secretFile)), r.GetValue(statusApi), r.GetValue(statusForge), ReadSecret(r.GetValue(statusTokenFile))), ct));
        root.Subcommands.Add(new Command("repo", "Registered repositories (admin)") { add, list, hook });

        var userName = new Option<string>("--name") { Description = "User name", Required = true };
        var role = new Option<string>("--role") { Description = "viewer, developer or admin", Required = true };
        role.AcceptOnlyFromAmong("viewer", "developer", "admin");
        var userAdd = new Command("add", "Create a user") { userName, role };
        LabCommandLine.Bind(userAdd, stdout, stderr, (cli, r, ct) => UserAddAsync(cli, r.GetValue(userName)!, r.GetValue(role)!, ct));
        root.Subcommands.Add(new Command("user", "Users (admin)") { userAdd });

        var tokenUser = new Option<string>("--user") { Description = "Whose token", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "New mode-600 file the token is written to (never printed)", Required = true };
        var label = new Option<string?>("--label") { Description = "What the token is for" };
        var days = new Option<int?>("--days") { Description = "Expires after this many days" };
        var tokenCreate = new Command("create", "Create an API token into a file") { tokenUser, output, label, days };
        LabCommandLine.Bind(tokenCreate, stdout, stderr, (cli, r, ct) => TokenCreateAsync(cli, r.GetValue(tokenUser)!, r.GetValue(output)!, r.GetValue(label), r.GetValue(days), ct));
        root.Subcommands.Add(new Command("token", "API tokens") { tokenCreate });

        var whoami = new Command("whoami", "Who the token says you are");
        LabCommandLine.Bind(whoami, stdout, stderr, WhoAmIAsync);
        root.Subcommands.Add(whoami);
    }

    private static async Task<int> RepoAddAsync(Cli cli, RepositoryView view, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/repositories") { Content = JsonContent.Create(view, options: Cli.JsonOptions) };
        using var response = await cli.SendAsync(request, "repo add", ct);
        var r = (await response.Content.ReadFromJsonAsync<RepositoryView>(Cli.JsonOptions, ct))!;
        if (cli.Json) cli.WriteJson(r);
        else cli.Out.WriteLine($"registered {TerminalText.Clean(r.Name)}: {TerminalText.Clean(r.Url)} (default branch {TerminalText.Clean(r.DefaultBranch)}, pipelines {TerminalText.Clean(string.Join(",", r.Pipelines))}, {(r.Trusted ? "trusted" : "untrusted")}, pushers {TerminalText.Clean(string.Join(",", r.Pushers))})");
        return ExitCodes.Ok;
    }

    private static async Task<int> RepoListAsync(Cli cli, System.CommandLine.ParseResult _, CancellationToken ct)
    {
        var repositories = await cli.GetAsync<List<RepositoryView>>("/api/repositories", "repo list", ct);
        if (cli.Json) cli.WriteJson(repositories);
        // One line per repository, name first (scripts/lab-start.sh greps it).
        else foreach (var r in repositories)
            cli.Out.WriteLine($"{TerminalText.Clean(r.Name),-24} {(r.Trusted ? "trusted  " : "untrusted")} {TerminalText.Clean(r.Url)}");
        return ExitCodes.Ok;
    }

    private static async Task<int> RepoHookAsync(Cli cli, string repository, RepositoryHookRequest hook, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/repositories/{Uri.EscapeDataString(repository)}/hook") { Content = JsonContent.Create(hook, options: Cli.JsonOptions) };
        using var response = await cli.SendAsync(request, "repo hook", ct);
        var view = (await response.Content.ReadFromJsonAsync<RepositoryHookView>(Cli.JsonOptions, ct))!;
        if (cli.Json) cli.WriteJson(view);
        else
        {
            cli.Out.WriteLine($"{TerminalText.Clean(view.Repository)}: {view.Forge} deliveries to {new Uri(cli.Http.BaseAddress!, view.HookPath)}");
            cli.Out.WriteLine($"  pipelines {TerminalText.Clean(string.Join(", ", view.Pipelines))}; branches {TerminalText.Clean(string.Join(", ", view.Branches))}");
            cli.Out.WriteLine(view.StatusApi is null ? "  no commit statuses" : $"  commit statuses to {TerminalText.Clean(view.StatusApi)} ({view.StatusForge}) as {TerminalText.Clean(view.Project ?? "")}");
        }
        return ExitCodes.Ok;
    }

    private static async Task<int> UserAddAsync(Cli cli, string name, string role, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/users") { Content = JsonContent.Create(new CreateUserRequest(name, role), options: Cli.JsonOptions) };
        using var response = await cli.SendAsync(request, "user add", ct);
        var u = (await response.Content.ReadFromJsonAsync<UserView>(Cli.JsonOptions, ct))!;
        cli.Out.WriteLine($"user {TerminalText.Clean(u.Name)} ({u.Role})");
        return ExitCodes.Ok;
    }

    /// <summary><c>token create --user u --out file</c>: the new token goes to a mode-600 file, never to the terminal.</summary>
    private static async Task<int> TokenCreateAsync(Cli cli, string user, FileInfo output, string? label, int? days, CancellationToken ct)
    {
        if (output.Exists) throw new CliUsageException($"{output.FullName} exists; choose another --out");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/users/{Uri.EscapeDataString(user)}/tokens") { Content = JsonContent.Create(new CreateTokenRequest(label, days), options: Cli.JsonOptions) };
        using var response = await cli.SendAsync(request, "token create", ct);
        var t = (await response.Content.ReadFromJsonAsync<TokenCreated>(Cli.JsonOptions, ct))!;
        WritePrivate(output.FullName, t.Token + "\n");
        cli.Out.WriteLine($"token {t.Id} ('{TerminalText.Clean(t.Label)}') for {t.Role} {TerminalText.Clean(t.User)} written to {output.FullName} (mode 600)");
        return ExitCodes.Ok;
    }

    private static async Task<int> WhoAmIAsync(Cli cli, System.CommandLine.ParseResult _, CancellationToken ct)
    {
        var me = await cli.GetAsync<MeView>("/api/me", "whoami", ct);
        cli.Out.WriteLine($"{TerminalText.Clean(me.Name)} ({me.Role})");
        return ExitCodes.Ok;
    }

    /// <summary>Creates the file readable by its owner only, from the first byte.</summary>
    public static void WritePrivate(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        using var writer = new StreamWriter(file);
        writer.Write(text);
    }

    private static string? ReadSecret(FileInfo? file) =>
        file is null ? null
        : file.Exists ? File.ReadLines(file.FullName).FirstOrDefault()?.Trim() ?? throw new CliUsageException($"{file.FullName} is empty")
        : throw new CliUsageException($"no file {file.FullName}");

    private static string Local(string url) => Directory.Exists(url) ? Path.GetFullPath(url) : url;

    private static List<string> List(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
