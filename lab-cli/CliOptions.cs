namespace Redox.Lab.Cli;

/// <summary>A usage error: wrong or missing arguments.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary><c>command --key value --flag positional</c>, nothing more.</summary>
public sealed class CliOptions
{
    private static readonly HashSet<string> Flags = ["wait", "trusted"];
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public required string Command { get; init; }

    public List<string> Positional { get; } = [];

    public string Server => Get("server") ?? Environment.GetEnvironmentVariable("LAB_SERVER") ?? "http://127.0.0.1:5080";

    /// <summary>
    /// Where the API token is read from: <c>--token-file</c>, else <c>$LAB_TOKEN_FILE</c>, else
    /// <c>~/.config/redox-lab/token</c>. The token itself is never an argument (argv is visible to every local user).
    /// </summary>
    public string TokenFile => Get("token-file") ?? Environment.GetEnvironmentVariable("LAB_TOKEN_FILE")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "redox-lab", "token");

    public static CliOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            throw new CliUsageException("no command");
        }

        var options = new CliOptions { Command = args[0] };
        for (var i = 1; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                options.Positional.Add(args[i]);
                continue;
            }

            var key = args[i][2..];
            if (Flags.Contains(key))
            {
                options._values[key] = null;
            }
            else if (i + 1 < args.Count)
            {
                options._values[key] = args[++i];
            }
            else
            {
                throw new CliUsageException($"--{key} needs a value");
            }
        }

        return options;
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public string Require(string key) => Get(key) ?? throw new CliUsageException($"--{key} is required");
}
