using System.Globalization;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Build;

/// <summary>A program, its arguments and its whole environment (the child inherits nothing else).</summary>
public sealed record SandboxCommand(string File, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env);

/// <summary>
/// Confines a build command with bubblewrap (Build/SANDBOX.md). As root, the agent first drops to
/// <see cref="SandboxOptions.Uid"/> with <c>setpriv</c> (no capabilities, no groups), so bwrap runs unprivileged
/// and puts the build in a new user namespace; <c>prlimit</c> sets the per-process limits before either. Inside:
/// new PID, IPC, UTS, cgroup and network namespaces (loopback only, unless the repository is trusted and the
/// pipeline asks for the network), the host's system trees read-only, the checkout the only writable host tree, a
/// private tmpfs <c>/tmp</c>, a new session (no terminal to inject keys into), no nested user namespaces, and an
/// environment holding only PATH, HOME, LANG and the pipeline's declared variables. Nothing of the agent's (its
/// token, state, configuration, other jobs' checkouts) is inside. bwrap's own init is PID 1 of the build's PID
/// namespace: when the command ends, the kernel kills everything left in it (a forked daemon too);
/// <c>--die-with-parent</c> does the same if the agent dies.
/// </summary>
public sealed class BuildSandbox(IOptions<AgentOptions> options, ILogger<BuildSandbox> log)
{
    /// <summary>The agent's configuration directory (lab-agent init), hidden from builds even when /etc is visible.</summary>
    public const string AgentConfigDir = "/etc/redox-lab";

    private static readonly string[] MergedUsrLinks = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    public SandboxOptions Options => options.Value.Sandbox;

    /// <summary>True when builds run as <see cref="SandboxOptions.Uid"/> (the agent is root and drops to it).</summary>
    public static bool DropsPrivileges => Environment.IsPrivilegedProcess;

    /// <summary>The command line that runs <paramref name="command"/> with <c>sh -c</c> in <paramref name="checkout"/>, sandboxed.</summary>
    public SandboxCommand Wrap(string command, string checkout, IReadOnlyDictionary<string, string> declared, bool network)
    {
        var o = Options;
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/tmp",
            ["TMPDIR"] = "/tmp",
            ["LANG"] = "C.UTF-8",
        };
        foreach (var (k, v) in declared)
            env[k] = v;

        const long MiB = 1024 * 1024;
        var args = new List<string>
        {
            $"--data={o.MemoryMiB * MiB}", $"--cpu={o.CpuSeconds}", $"--nproc={o.Processes}",
            $"--fsize={o.FileSizeMiB * MiB}", $"--nofile={o.OpenFiles}", "--core=0", "--",
        };
        if (DropsPrivileges)
            args.AddRange(["setpriv", $"--reuid={o.Uid}", $"--regid={o.Gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]);

        args.AddRange([o.Bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--unshare-user", "--disable-userns"]);
        if (network)
            args.Add("--share-net");
        args.AddRange(["--hostname", "sandbox"]);

        var trees = o.EffectiveReadOnlyPaths.Where(Directory.Exists).ToList();
        foreach (var tree in trees)
            args.AddRange(["--ro-bind", tree, tree]);
        foreach (var link in MergedUsrLinks)
        {
            if (new FileInfo(link).LinkTarget is { } target)
                args.AddRange(["--symlink", target, link]);
            else if (Directory.Exists(link))
                args.AddRange(["--ro-bind", link, link]);
        }

        if (network && new FileInfo("/etc/resolv.conf").ResolveLinkTarget(returnFinalTarget: true) is { } resolv && resolv.Exists)
            args.AddRange(["--ro-bind", resolv.FullName, resolv.FullName]); // systemd-resolved keeps it under /run

        foreach (var hidden in HiddenPaths(trees))
        {
            if (Directory.Exists(hidden))
                args.AddRange(["--tmpfs", hidden]);
            else if (File.Exists(hidden))
                args.AddRange(["--ro-bind", "/dev/null", hidden]);
        }

        args.AddRange(["--proc", "/proc", "--dev", "/dev"]);
        args.AddRange(["--size", (o.TmpMiB * MiB).ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp"]);
        // The sandbox's own root (the directories bwrap made for the mounts, e.g. the parents of the checkout) is
        // read-only too: the checkout and the private /tmp are the only writable places.
        args.AddRange(["--bind", checkout, checkout, "--remount-ro", "/", "--chdir", checkout, "--clearenv"]);
        foreach (var (k, v) in env)
            args.AddRange(["--setenv", k, v]);
        args.AddRange(["--", "sh", "-c", command]);
        return new SandboxCommand("prlimit", args, env);
    }

    /// <summary>
    /// Makes the checkout the build user's and lets that user walk down to it; then runs <c>true</c> in the same
    /// sandbox, so a host where bubblewrap cannot run (no user namespaces, bwrap missing) fails the job as the
    /// lab's fault, with bwrap's own message, before any build command runs. Never falls back to running unconfined.
    /// </summary>
    public async Task PrepareAsync(string checkout, CancellationToken cancellationToken)
    {
        if (DropsPrivileges)
        {
            var o = Options;
            // chown -R does not follow symbolic links (-P is its default): a link in the commit changes nothing outside.
            var chown = await ProcessRunner.RunAsync("chown", ["-R", "-P", "-h", $"{o.Uid}:{o.Gid}", "--", checkout], "/", null, null, cancellationToken);
            if (chown.ExitCode != 0)
                throw new LabInfraException($"cannot give the checkout to the build user {o.Uid}: {string.Join(" | ", chown.Tail.TakeLast(3))}");
            GrantTraverse(checkout);
        }

        var probe = Wrap("true", checkout, new Dictionary<string, string>(), network: false);
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(probe.File, probe.Args, checkout, probe.Env, null, cancellationToken, clearEnvironment: true);
        }
        catch (LabInfraException e)
        {
            throw new LabInfraException($"the build sandbox cannot start ({e.Message}); install bubblewrap (Build/SANDBOX.md)", e);
        }

        if (result.ExitCode != 0)
        {
            throw new LabInfraException(
                $"the build sandbox does not work on this agent (exit {result.ExitCode}: {string.Join(" | ", result.Tail.TakeLast(3))}); " +
                "bubblewrap needs unprivileged user namespaces (Build/SANDBOX.md); the build did not run");
        }
    }

    /// <summary>What the build must not see although it lies under a visible tree: the agent's configuration and state, its secret file.</summary>
    private IEnumerable<string> HiddenPaths(IReadOnlyList<string> trees)
    {
        var agent = options.Value;
        var candidates = new List<string> { AgentConfigDir, agent.StatePath };
        if (!string.IsNullOrWhiteSpace(agent.EnrolmentSecretFile))
            candidates.Add(Path.GetFullPath(agent.EnrolmentSecretFile));
        return candidates.Where(c => trees.Any(t => c == t || c.StartsWith(t.TrimEnd('/') + "/", StringComparison.Ordinal))).Distinct(StringComparer.Ordinal);
    }

    /// <summary>
    /// Every directory above the checkout gets traverse (o+x, no listing) for the build user, as pg-local.sh does
    /// for the postgres user: bwrap runs as that user and must reach the checkout to bind it. Token files stay mode 600.
    /// </summary>
    private void GrantTraverse(string checkout)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("the build sandbox (bubblewrap) runs on Linux only");
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(checkout)); dir is not null && dir != "/"; dir = Path.GetDirectoryName(dir))
        {
            var mode = File.GetUnixFileMode(dir);
            if ((mode & UnixFileMode.OtherExecute) == 0)
            {
                log.LogInformation("Sandbox: granting traverse (o+x) on {Dir} so the build user reaches its checkout", dir);
                File.SetUnixFileMode(dir, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    /// <summary>
    /// The artifact's real path, symbolic links resolved component by component; a path that leaves the checkout
    /// (<c>..</c>, an absolute link, a link to a directory outside) is refused, so a build cannot make the agent
    /// upload or boot a file of the agent's. Null when the file does not exist.
    /// </summary>
    public static string? ResolveInside(string root, string relative)
    {
        var realRoot = RealPath(Path.GetFullPath(root), 0);
        var real = RealPath(Path.GetFullPath(Path.Combine(realRoot, relative)), 0);
        if (!real.StartsWith(realRoot + "/", StringComparison.Ordinal))
            throw new BuildFailedException($"the artifact '{relative}' resolves outside the checkout; artifacts must be files of the build");
        return File.Exists(real) ? real : null;
    }

    private static string RealPath(string path, int depth)
    {
        var current = "/";
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = part == ".." ? Path.GetDirectoryName(current) ?? "/" : Path.Combine(current, part);
            if (part != ".." && new FileInfo(next).LinkTarget is { } target)
            {
                if (depth > 40)
                    throw new BuildFailedException("too many levels of symbolic links in an artifact path");
                next = RealPath(Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target)), depth + 1);
            }

            current = next;
        }

        return current;
    }
}
