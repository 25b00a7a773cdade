using System.Diagnostics;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>A throwaway git repository with one commit, for the checkout and build checkpoints.</summary>
public sealed class TestRepo : IDisposable
{
    private TestRepo(string path, string commit)
    {
        Path = path;
        Commit = commit;
    }

    public string Path { get; }

    public string Commit { get; }

    public static TestRepo Create(IReadOnlyDictionary<string, string> files)
    {
        var dir = Directory.CreateTempSubdirectory("agent-repo-").FullName;
        foreach (var (name, text) in files)
        {
            var file = System.IO.Path.Combine(dir, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }

        Git(dir, "init", "--quiet", "-b", "main");
        Git(dir, "add", "-A");
        Git(dir, "-c", "user.name=test", "-c", "user.email=test@lab", "commit", "--quiet", "-m", "test");
        return new TestRepo(dir, Git(dir, "rev-parse", "HEAD").Trim());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
        return output;
    }
}
