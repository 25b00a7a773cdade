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
    TimeSpan Timeout);

/// <summary>How to boot.</summary>
public sealed record BootSpec(int Count, TimeSpan Timeout, string Cmdline, MachineRequirements Machine);

/// <summary>What a machine must have, and the size of a simulated one.</summary>
public sealed record MachineRequirements(IReadOnlyList<string> Tags, int Cpus, int MemoryMiB);

/// <summary>Regexes for kernels that print no markers.</summary>
public sealed record ConsoleSpec(IReadOnlyList<string> Panic, string? Success);

/// <summary>A boot stage: exactly one of <see cref="Marker"/> or <see cref="Regex"/>.</summary>
public sealed record StageSpec(string Name, string? Marker, string? Regex);

/// <summary>
/// A build variant, fully resolved: <see cref="Env"/> is build.env plus the variant's own,
/// <see cref="Machine"/> is boot.machine with the variant's overrides.
/// </summary>
public sealed record VariantSpec(string Name, IReadOnlyDictionary<string, string> Env, MachineRequirements Machine);
