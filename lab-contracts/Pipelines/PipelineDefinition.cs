namespace Redox.Lab.Contracts.Pipelines;

// The validated, defaulted model of a pipeline file (pipelines/FORMAT.md). Produced only by PipelineLoader.

/// <summary>A whole pipeline.</summary>
public sealed record PipelineDefinition(
    string Name,
    string? Description,
    BuildSpec Build,
    BootSpec Boot,
    TimeSpan JobTimeout,
    ConsoleSpec Console,
    IReadOnlyList<StageSpec> Stages,
    IReadOnlyList<VariantSpec> Variants,
    JudgeSpec? Judge = null)
{
    /// <summary>The <c>judge</c> section, defaulted when the file has none.</summary>
    public JudgeSpec Judgement => Judge ?? JudgeSpec.Default;

    /// <summary>The variant by name; throws <see cref="KeyNotFoundException"/> for an unknown one.</summary>
    public VariantSpec Variant(string name) => Variants.FirstOrDefault(v => v.Name == name)
        ?? throw new KeyNotFoundException($"pipeline '{Name}' has no variant '{name}'");
}

/// <summary>How to build.</summary>
public sealed record BuildSpec(
    IReadOnlyList<string> Commands,
    IReadOnlyDictionary<string, string> Env,
    string Image,
    string? Elf,
    IReadOnlyList<string> Modules,
    TimeSpan Timeout)
{
    /// <summary>
    /// More ELF files with symbols (<c>artifacts.symbols</c>): the programs the kernel runs, e.g. bootstrap. Each is
    /// uploaded as an artifact named after its file (<c>bootstrap.elf</c>) and names the profile frames of the DSO of
    /// that name (<c>bootstrap</c>), as <c>elf</c> names the kernel's.
    /// </summary>
    public IReadOnlyList<string> Symbols { get; init; } = [];

    /// <summary>
    /// <c>build.network</c>: the build asks for the network (to fetch toolchains, crates). Granted only when the
    /// repository is registered trusted (<see cref="Api.JobAssignment.Trusted"/>); otherwise the build runs without it.
    /// </summary>
    public bool Network { get; init; }
}

/// <summary>How to boot.</summary>
/// <param name="Count">Boots per job.</param>
/// <param name="Timeout">One boot, power-on to end.</param>
/// <param name="Cmdline">The kernel command line (kernel boots).</param>
/// <param name="Machine">What the machine must have.</param>
/// <param name="Method">How the machine gets the image: <see cref="BootMethod"/>.</param>
/// <param name="Silence">End the boot when the console printed nothing for this long; null waits for the timeout.</param>
public sealed record BootSpec(
    int Count,
    TimeSpan Timeout,
    string Cmdline,
    MachineRequirements Machine,
    BootMethod Method = BootMethod.Kernel,
    TimeSpan? Silence = null);

/// <summary><c>boot.method</c>: what the image artifact is and how a machine starts it.</summary>
public enum BootMethod
{
    /// <summary><c>kernel</c>: a multiboot ELF or a Linux bzImage, loaded directly (modules, command line).</summary>
    Kernel,
    /// <summary><c>disk</c>: a BIOS-bootable disk image, attached as the first disk (never written to).</summary>
    Disk,
    /// <summary><c>disk-uefi</c>: the same disk image, booted by UEFI firmware (OVMF on QEMU).</summary>
    DiskUefi,
}

/// <summary>What a machine must have, and the size of a simulated one.</summary>
/// <param name="Tags">Tags the machine must have.</param>
/// <param name="Cpus">CPUs of a simulated machine.</param>
/// <param name="MemoryMiB">Memory of a simulated machine.</param>
/// <param name="Type">The chipset of a simulated machine: <c>pc</c> (i440FX) or <c>q35</c>.</param>
public sealed record MachineRequirements(IReadOnlyList<string> Tags, int Cpus, int MemoryMiB, string Type = "pc");

/// <summary>How the console is read: the adapter for the kernel's own formats, plus the pipeline's regexes.</summary>
/// <param name="Panic">Regexes: a match is a kernel panic.</param>
/// <param name="Success">Regex: a match ends the boot as passed.</param>
/// <param name="Kernel">The console adapter: <c>lab</c> (markers only), <c>redox</c> or <c>linux</c>.</param>
/// <param name="End">End lines: a match ends the boot with the given outcome (before the adapter's own).</param>
public sealed record ConsoleSpec(IReadOnlyList<string> Panic, string? Success, string Kernel = "lab", IReadOnlyList<EndLineSpec>? End = null)
{
    /// <summary>The pipeline's end lines (empty when none).</summary>
    public IReadOnlyList<EndLineSpec> EndLines => End ?? [];
}

/// <summary>A console line that ends the boot: <paramref name="Regex"/> matched gives <paramref name="Outcome"/> (passed, test-failed, kernel-panic, machine-reset).</summary>
public sealed record EndLineSpec(string Regex, Api.Outcome Outcome);

/// <summary>A boot stage: exactly one of <see cref="Marker"/> or <see cref="Regex"/>.</summary>
public sealed record StageSpec(string Name, string? Marker, string? Regex);

/// <summary>
/// A build variant, fully resolved: <see cref="Env"/> is build.env plus the variant's own,
/// <see cref="Machine"/> is boot.machine with the variant's overrides.
/// </summary>
public sealed record VariantSpec(string Name, IReadOnlyDictionary<string, string> Env, MachineRequirements Machine);
