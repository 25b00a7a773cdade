using System.Diagnostics;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>Paths in this repository (the tests read the real pipeline file and start PostgreSQL with the real script).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string ReferencePipeline => File.ReadAllText(Path.Combine(Root, "pipelines", "redox-reference.yaml"));

    /// <summary>The reference pipeline, asking for one more tag so that only the calling test's machines match.</summary>
    public static string ReferencePipelineWithTag(string tag)
    {
        var yaml = ReferencePipeline;
        const string tags = "tags: [x86_64]";
        Assert.Contains(tags, yaml, StringComparison.Ordinal);
        return yaml.Replace(tags, $"tags: [x86_64, {tag}]", StringComparison.Ordinal);
    }

    /// <summary>The reference pipeline's variant names: a run gets one job per variant and matching machine.</summary>
    public static IReadOnlyList<string> ReferenceVariants =>
        Redox.Lab.Contracts.Pipelines.PipelineLoader.Load(ReferencePipeline, "pipelines/redox-reference.yaml").Variants.Select(v => v.Name).ToList();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Redox.Lab.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Redox.Lab.sln above " + AppContext.BaseDirectory);
    }

    public static async Task<string> RunAsync(string file, string? workingDir, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDir is not null) psi.WorkingDirectory = workingDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}");
        return (await stdout).Trim();
    }
}

/// <summary>A real git repository in a temp folder, for pushes.</summary>
public sealed class GitRepo
{
    private GitRepo(string path) => Path = path;

    public string Path { get; }

    public static async Task<GitRepo> CreateAsync(string parent, IReadOnlyDictionary<string, string> files)
    {
        var path = System.IO.Path.Combine(parent, "repo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        var repo = new GitRepo(path);
        await repo.GitAsync("init", "--quiet", "--initial-branch=main");
        await repo.GitAsync("config", "user.email", "tests@lab.invalid");
        await repo.GitAsync("config", "user.name", "Lab Tests");
        await repo.CommitAsync(files, "initial");
        return repo;
    }

    /// <summary>Writes the files and commits them on the current branch; returns the commit id.</summary>
    public async Task<string> CommitAsync(IReadOnlyDictionary<string, string> files, string message)
    {
        foreach (var (name, text) in files)
        {
            var full = System.IO.Path.Combine(Path, name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, text);
        }
        await GitAsync("add", "-A");
        await GitAsync("commit", "--quiet", "-m", message);
        return await GitAsync("rev-parse", "HEAD");
    }

    public Task<string> GitAsync(params string[] args) => Repo.RunAsync("git", Path, args);
}
