namespace Redox.Lab.Cli;

/// <summary>A usage error: wrong or missing arguments (exit 2).</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// Where the lab is and how to prove who you are. Each value comes from, first to last: the option (<c>--server</c>,
/// <c>--token-file</c>), the environment (<c>LAB_SERVER</c>, <c>LAB_TOKEN_FILE</c>), the config file
/// (<c>$LAB_CONFIG</c>, else <c>~/.config/redox-lab/config</c>: <c>server = URL</c> and <c>token-file = PATH</c> lines),
/// the default (<c>http://127.0.0.1:5080</c>, <c>~/.config/redox-lab/token</c>). The token itself is only ever read from
/// a file: never an argument (argv is visible to every local user) nor an environment variable (children inherit it).
/// </summary>
public sealed record LabConfig(string Server, string TokenFile)
{
    public static string DefaultDir => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "redox-lab");

    public static LabConfig Resolve(string? server, string? tokenFile, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var file = ReadFile(env("LAB_CONFIG") ?? Path.Combine(DefaultDir, "config"));
        return new LabConfig(
            server ?? env("LAB_SERVER") ?? file.GetValueOrDefault("server") ?? "http://127.0.0.1:5080",
            tokenFile ?? env("LAB_TOKEN_FILE") ?? file.GetValueOrDefault("token-file") ?? Path.Combine(DefaultDir, "token"));
    }

    /// <summary><c>key = value</c> lines; <c>#</c> starts a comment; unknown keys are a usage error (a typo must not go unnoticed).</summary>
    internal static Dictionary<string, string> ReadFile(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path)) return values;
        var n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new CliUsageException($"{path}:{n}: expected 'key = value'");
            var key = line[..eq].Trim();
            if (key is not ("server" or "token-file")) throw new CliUsageException($"{path}:{n}: unknown key '{TerminalText.Clean(key)}' (server, token-file)");
            values[key] = line[(eq + 1)..].Trim();
        }
        return values;
    }

    /// <summary>The token in the file (first line); null when there is no file. Warns when others may read it.</summary>
    public string? ReadToken(TextWriter stderr)
    {
        if (!File.Exists(TokenFile)) return null;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(TokenFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            stderr.WriteLine($"lab: warning: {TokenFile} is readable by other users; chmod 600 it");
        var token = File.ReadLines(TokenFile).FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(token) ? null : token;
    }
}

/// <summary>What lab's exit codes mean (README, "The lab command line"): scripts and merge gates read them.</summary>
public static class ExitCodes
{
    /// <summary>Done; the run passed with no regression.</summary>
    public const int Ok = 0;
    /// <summary>The kernel failed (build, panic, hang, tests), regressed, or has a new bug.</summary>
    public const int Failed = 1;
    /// <summary>Usage error, or the lab refused or could not be reached.</summary>
    public const int Usage = 2;
    /// <summary>The lab could not tell: infrastructure error, agent lost, cancelled, or waiting timed out.</summary>
    public const int Undecided = 3;
}
