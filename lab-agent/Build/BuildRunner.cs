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
/// Runs the pipeline's build commands with <c>sh -c</c> in the checkout root, one after the other, each inside the
/// build sandbox (<see cref="BuildSandbox"/>, Build/SANDBOX.md), with a clean environment holding only the variant's
/// declared variables, under <c>build.timeout</c> and <c>Agent:Sandbox:MaxOutputMiB</c>. Every output line goes to
/// <c>onLine</c> as it arrives (the job flow uploads it as boot -1). Artifact paths are resolved, symbolic links
/// included, and must stay inside the checkout.
/// </summary>
public sealed class BuildRunner(TimeProvider time, BuildSandbox sandbox, ILogger<BuildRunner> log)
{
    public async Task<BuildArtifacts> RunAsync(
        PipelineDefinition pipeline,
        VariantSpec variant,
        string root,
        Action<RawConsoleLine> onLine,
        CancellationToken cancellationToken,
        bool networkAllowed = false)
    {
        await sandbox.PrepareAsync(root, cancellationToken);
        var network = pipeline.Build.Network && networkAllowed;
        if (pipeline.Build.Network && !networkAllowed)
            onLine(RawConsoleLine.FromText("lab: build.network asked for, but the repository is not registered trusted: the build runs without network"));

        var limit = (long)sandbox.Options.MaxOutputMiB * 1024 * 1024;
        long printed = 0;
        using var timeout = new CancellationTokenSource(pipeline.Build.Timeout, time);
        using var flooded = new CancellationTokenSource();
        using var overDisk = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, flooded.Token, overDisk.Token);
        using var stopWatching = new CancellationTokenSource();
        var diskLimit = (long)sandbox.Options.DiskMiB * 1024 * 1024;
        var watching = WatchDiskAsync(root, diskLimit, overDisk, stopWatching.Token);
        void Take(RawConsoleLine line)
        {
            if (Interlocked.Add(ref printed, line.Bytes.Length + 1) > limit)
            {
                flooded.Cancel();
                return;
            }

            onLine(line);
        }

        try
        {
            foreach (var command in pipeline.Build.Commands)
            {
                log.LogInformation("Build: {Command}", command);
                ProcessResult result;
                try
                {
                    var sandboxed = sandbox.Wrap(command, root, variant.Env, network);
                    result = await ProcessRunner.RunAsync(sandboxed.File, sandboxed.Args, root, sandboxed.Env, Take, linked.Token, clearEnvironment: true);
                }
                catch (OperationCanceledException) when (overDisk.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new BuildFailedException($"the build's checkout grew past {sandbox.Options.DiskMiB} MiB during `{command}` and the build was stopped");
                }
                catch (OperationCanceledException) when (flooded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new BuildFailedException($"the build printed more than {sandbox.Options.MaxOutputMiB} MiB during `{command}` and was stopped");
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new BuildFailedException($"build timeout ({pipeline.Build.Timeout}) passed during `{command}`");
                }

                if (overDisk.IsCancellationRequested)
                    throw new BuildFailedException($"the build's checkout grew past {sandbox.Options.DiskMiB} MiB during `{command}` and the build was stopped");
                if (flooded.IsCancellationRequested)
                    throw new BuildFailedException($"the build printed more than {sandbox.Options.MaxOutputMiB} MiB during `{command}` and was stopped");
                if (result.ExitCode != 0)
                    throw new BuildFailedException($"`{command}` exited with status {result.ExitCode}:\n{string.Join('\n', result.Tail.TakeLast(20))}");
            }
        }
        finally
        {
            // On every way out (a failed command too): the watcher stops before the build returns.
            await stopWatching.CancelAsync();
            await watching;
        }

        var image = Artifact(root, pipeline.Build.Image, "image");
        var modules = pipeline.Build.Modules.Select(m => Artifact(root, m, "module")).ToList();
        var elf = pipeline.Build.Elf is { } e ? BuildSandbox.ResolveInside(root, e) : null;
        if (pipeline.Build.Elf is not null && elf is null)
            log.LogWarning("Build: the elf artifact {Elf} is missing; boots go on without symbols", pipeline.Build.Elf);

        // More symbol files (programs the kernel runs): the ones that exist; a missing one costs only names.
        var symbols = pipeline.Build.Symbols.Select(s => BuildSandbox.ResolveInside(root, s)).OfType<string>().ToList();
        return new BuildArtifacts(image, elf, modules) { Symbols = symbols };
    }

    /// <summary>
    /// The disk limit: every <see cref="SandboxOptions.DiskCheckSeconds"/> the checkout's files are summed (apparent
    /// sizes, links not followed); past the limit the build is stopped. Sampled, so a build may pass the limit by what
    /// it writes in one interval (each file is also capped by RLIMIT_FSIZE).
    /// </summary>
    private async Task WatchDiskAsync(string root, long limit, CancellationTokenSource overDisk, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(sandbox.Options.DiskCheckSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var used = await Task.Run(() => DiskUse(root), stop);
                if (used > limit)
                {
                    log.LogWarning("Build: the checkout holds {Used} bytes, over the limit of {Limit}; stopping the build", used, limit);
                    await overDisk.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The build ended.
        }
    }

    /// <summary>The apparent size of every file under <paramref name="root"/>, without following links.</summary>
    public static long DiskUse(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", options))
            {
                try
                {
                    total += file.Length;
                }
                catch (IOException)
                {
                    // Deleted while we counted.
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
        }

        return total;
    }

    private static string Artifact(string root, string relative, string what) =>
        BuildSandbox.ResolveInside(root, relative)
        ?? throw new BuildFailedException($"the build succeeded but did not produce the {what} artifact '{relative}'");
}
