namespace Redox.Lab.Agent.Build;

/// <summary>
/// The <c>Agent:Sandbox</c> section: how builds are confined (Build/SANDBOX.md). There is no switch that turns the
/// sandbox off: an agent where bubblewrap cannot run fails every build as an infrastructure error that says why.
/// </summary>
public sealed class SandboxOptions
{
    public const string Section = "Agent:Sandbox";

    /// <summary>The bubblewrap binary (Debian's <c>bubblewrap</c> package).</summary>
    public string Bwrap { get; set; } = "bwrap";

    /// <summary>When the agent runs as root, builds run as this user and group (default nobody/nogroup).</summary>
    public int Uid { get; set; } = 65534;

    public int Gid { get; set; } = 65534;

    /// <summary>Data segment per process (RLIMIT_DATA: heap and private mappings that are really used).</summary>
    public int MemoryMiB { get; set; } = 8192;

    /// <summary>CPU time per process (RLIMIT_CPU).</summary>
    public int CpuSeconds { get; set; } = 3600;

    /// <summary>Tasks (processes and threads) of the build's user (RLIMIT_NPROC): a fork bomb stops here.</summary>
    public int Processes { get; set; } = 2048;

    /// <summary>Largest file the build may write (RLIMIT_FSIZE).</summary>
    public int FileSizeMiB { get; set; } = 8192;

    /// <summary>Open files per process (RLIMIT_NOFILE).</summary>
    public int OpenFiles { get; set; } = 4096;

    /// <summary>Size of the build's private <c>/tmp</c> (a tmpfs, in memory).</summary>
    public int TmpMiB { get; set; } = 1024;

    /// <summary>Disk the checkout may use (the commit and everything the build writes there); a build past it is stopped and fails.</summary>
    public int DiskMiB { get; set; } = 20480;

    /// <summary>How often the checkout's disk use is measured.</summary>
    public int DiskCheckSeconds { get; set; } = 15;

    /// <summary>Console output of one build (all its commands); a build printing more is stopped and fails.</summary>
    public int MaxOutputMiB { get; set; } = 64;

    /// <summary>
    /// Trees of the host the build sees read-only, when they exist. <c>/etc/redox-lab</c> (the agent's
    /// configuration) is hidden under an empty tmpfs whatever this says.
    /// </summary>
    public List<string> ReadOnlyPaths { get; set; } = [];

    /// <summary>The read-only trees when none are configured (the binder appends to list defaults, so they live here).</summary>
    public static readonly string[] DefaultReadOnlyPaths = ["/usr", "/etc", "/opt"];

    public IReadOnlyList<string> EffectiveReadOnlyPaths => ReadOnlyPaths.Count > 0 ? ReadOnlyPaths : DefaultReadOnlyPaths;
}
