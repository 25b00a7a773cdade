namespace Redox.Lab.Contracts.Secrets;

/// <summary>
/// Secrets come from files (systemd's <c>LoadCredential</c>, compose secrets, mode-600 files written by
/// scripts/lab-start.sh), never from environment variables that every child process would inherit
/// (docs: lab-server/README.md "Secrets", lab-agent/Build/SANDBOX.md).
/// </summary>
public static class SecretFiles
{
    /// <summary>The file's text without its trailing line break; a clear error naming the setting when it is missing or empty.</summary>
    public static string Read(string path, string setting)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting}: cannot read the secret file '{path}': {e.Message}", e);
        }

        text = text.TrimEnd('\r', '\n');
        return text.Length > 0 ? text : throw new InvalidOperationException($"{setting}: the secret file '{path}' is empty");
    }

    /// <summary>
    /// Removes from this process's environment the variables that carry the given configuration keys
    /// (<c>Lab:EnrolmentSecret</c> arrives as <c>Lab__EnrolmentSecret</c>), once the configuration has read them,
    /// so no child process (git, QEMU, a build) inherits them. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> ScrubEnvironment(params string[] configurationKeys)
    {
        var removed = new List<string>();
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            if (configurationKeys.Any(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)))
            {
                Environment.SetEnvironmentVariable(name, null);
                removed.Add(name);
            }
        }

        return removed;
    }
}
