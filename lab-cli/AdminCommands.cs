using System.Net.Http.Json;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Cli;

/// <summary>Users, tokens and repositories (admin routes; <c>token create</c> for your own tokens too).</summary>
public static class AdminCommands
{
    public static async Task<int> RepoAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        switch (o.Positional.FirstOrDefault())
        {
            case "add":
            {
                var url = o.Require("url");
                if (Directory.Exists(url)) url = Path.GetFullPath(url);
                var view = new RepositoryView(o.Require("name"), url, o.Get("branch") ?? "main",
                    List(o.Get("pipelines") ?? "pipelines/*.yaml"), o.Has("trusted"), List(o.Get("pushers") ?? ""));
                using var response = await http.PostAsJsonAsync("/api/repositories", view, CliCommands.Json);
                if (!response.IsSuccessStatusCode) return await CliCommands.FailAsync(stderr, "repo add", response);
                var r = (await response.Content.ReadFromJsonAsync<RepositoryView>(CliCommands.Json))!;
                stdout.WriteLine($"registered {r.Name}: {r.Url} (default branch {r.DefaultBranch}, pipelines {string.Join(",", r.Pipelines)}, {(r.Trusted ? "trusted" : "untrusted")}, pushers {string.Join(",", r.Pushers)})");
                return 0;
            }
            case "list":
            {
                using var response = await http.GetAsync("/api/repositories");
                if (!response.IsSuccessStatusCode) return await CliCommands.FailAsync(stderr, "repo list", response);
                foreach (var r in (await response.Content.ReadFromJsonAsync<List<RepositoryView>>(CliCommands.Json))!)
                    stdout.WriteLine($"{TerminalText.Clean(r.Name),-24} {(r.Trusted ? "trusted  " : "untrusted")} {TerminalText.Clean(r.Url)}");
                return 0;
            }
            default:
                throw new CliUsageException("repo add|list");
        }
    }

    public static async Task<int> UserAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        if (o.Positional.FirstOrDefault() != "add") throw new CliUsageException("user add --name <n> --role viewer|developer|admin");
        using var response = await http.PostAsJsonAsync("/api/users", new CreateUserRequest(o.Require("name"), o.Require("role")), CliCommands.Json);
        if (!response.IsSuccessStatusCode) return await CliCommands.FailAsync(stderr, "user add", response);
        var u = (await response.Content.ReadFromJsonAsync<UserView>(CliCommands.Json))!;
        stdout.WriteLine($"user {u.Name} ({u.Role})");
        return 0;
    }

    /// <summary><c>token create --user u --out file</c>: the new token goes to a mode-600 file, never to the terminal.</summary>
    public static async Task<int> TokenAsync(HttpClient http, CliOptions o, TextWriter stdout, TextWriter stderr)
    {
        if (o.Positional.FirstOrDefault() != "create") throw new CliUsageException("token create --user <n> --out <file> [--label <l>] [--days <d>]");
        var output = Path.GetFullPath(o.Require("out"));
        if (File.Exists(output)) throw new CliUsageException($"{output} exists; choose another --out");
        int? days = o.Get("days") is { } d ? int.TryParse(d, out var n) ? n : throw new CliUsageException("--days is a number") : null;
        using var response = await http.PostAsJsonAsync($"/api/users/{Uri.EscapeDataString(o.Require("user"))}/tokens",
            new CreateTokenRequest(o.Get("label"), days), CliCommands.Json);
        if (!response.IsSuccessStatusCode) return await CliCommands.FailAsync(stderr, "token create", response);
        var t = (await response.Content.ReadFromJsonAsync<TokenCreated>(CliCommands.Json))!;
        WritePrivate(output, t.Token + "\n");
        stdout.WriteLine($"token {t.Id} ('{t.Label}') for {t.Role} {t.User} written to {output} (mode 600)");
        return 0;
    }

    public static async Task<int> WhoAmIAsync(HttpClient http, TextWriter stdout, TextWriter stderr)
    {
        using var response = await http.GetAsync("/api/me");
        if (!response.IsSuccessStatusCode) return await CliCommands.FailAsync(stderr, "whoami", response);
        var me = (await response.Content.ReadFromJsonAsync<MeView>(CliCommands.Json))!;
        stdout.WriteLine($"{me.Name} ({me.Role})");
        return 0;
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

    private static List<string> List(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
