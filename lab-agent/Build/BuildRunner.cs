using Redox.Lab.Contracts.Console;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Build;

/// <summary>The commit's build failed or did not produce its artifacts: the job ends as build-failed.</summary>
public sealed class BuildFailedException(string message) : Exception(message);

/// <summary>The artifacts a build produced, as absolute paths.</summary>
public sealed record BuildArtifacts(string Image, string? Elf, IReadOnlyList<string> Modules)
{
    /// <summary>Other ELF files with symbols (pipeline <c>artifacts.symbols</c>), uploaded by their file names.</summary>
    public IReadOnlyList<string> Symbols { get; init; } = [];
}

/// <summary>
/// Runs the pipeline's build commands with <c>sh -c</c> in the checkout root, one after the other,
/// with the variant's environment, under <c>build.timeout</c>. Every output line goes to
/// <c>onLine</c> as it arrives (the job flow uploads it as boot -1).
/// </summary>
public sealed class BuildRunner(TimeProvider time, ILogger<BuildRunner> log)
{
    public async Task<BuildArtifacts> RunAsync(
        PipelineDefinition pipeline,
        VariantSpec variant,
        string root,
        Action<RawConsoleLine> onLine,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(pipeline.Build.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        foreach (var command in pipeline.Build.Commands)
        {
            log.LogInformation("Build: {Command}", command);
            ProcessResult result;
            try
            {
                result = await ProcessRunner.RunAsync("sh", ["-c", command], root, variant.Env, onLine, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new BuildFailedException($"build timeout ({pipeline.Build.Timeout}) passed during `{command}`");
            }

            if (result.ExitCode != 0)
                throw new BuildFailedException($"`{command}` exited with status {result.ExitCode}:\n{string.Join('\n', result.Tail.TakeLast(20))}");
        }

        var image = Artifact(root, pipeline.Build.Image, "image");
        var modules = pipeline.Build.Modules.Select(m => Artifact(root, m, "module")).ToList();
        var elf = pipeline.Build.Elf is { } e ? Path.GetFullPath(Path.Combine(root, e)) : null;
        if (elf is not null && !File.Exists(elf))
        {
            log.LogWarning("Build: the elf artifact {Elf} is missing; boots go on without symbols", pipeline.Build.Elf);
            elf = null;
        }

        // More symbol files (programs the kernel runs): the ones that exist; a missing one costs only names.
        var symbols = pipeline.Build.Symbols.Select(s => Path.GetFullPath(Path.Combine(root, s))).Where(File.Exists).ToList();
        return new BuildArtifacts(image, elf, modules) { Symbols = symbols };
    }

    private static string Artifact(string root, string relative, string what)
    {
        var path = Path.GetFullPath(Path.Combine(root, relative));
        if (!File.Exists(path))
            throw new BuildFailedException($"the build succeeded but did not produce the {what} artifact '{relative}'");
        return path;
    }
}
