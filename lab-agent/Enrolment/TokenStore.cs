using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Agent.Enrolment;

/// <summary>
/// The agent's token, one file per server under <c>StateDir/tokens/</c>, readable by the agent's user
/// only (mode 600). Written to a temporary file and renamed, so a crash leaves the old token or the
/// new one, never half of one.
/// </summary>
public sealed class TokenStore(IOptions<AgentOptions> options)
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public string PathForServer
    {
        get
        {
            var uri = options.Value.ServerUri;
            var key = $"{uri.Scheme}_{uri.Host}_{uri.Port}{uri.AbsolutePath.TrimEnd('/').Replace('/', '_')}";
            return Path.Combine(options.Value.StatePath, "tokens", key + ".json");
        }
    }

    public StoredToken? Load()
    {
        var path = PathForServer;
        if (!File.Exists(path))
            return null;
        var stored = JsonSerializer.Deserialize<StoredToken>(File.ReadAllText(path));
        return stored is { Token.Length: > 0 } ? stored : null;
    }

    public void Save(StoredToken token)
    {
        var path = PathForServer;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.Delete(temp);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            create.UnixCreateMode = OwnerOnly;
        using (var stream = new FileStream(temp, create))
            JsonSerializer.Serialize(stream, token);
        File.Move(temp, path, overwrite: true);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, OwnerOnly);
    }
}

/// <summary>What the token file holds.</summary>
public sealed record StoredToken(string Server, Guid AgentId, string Token);
