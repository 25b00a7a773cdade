using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Contracts.Pipelines;

// One method per section of the file; each validates its rules of pipelines/FORMAT.md and applies the defaults.
public static partial class PipelineLoader
{
    private const int DefaultMemoryMiB = 256;
    private static readonly string[] MachineKeys = ["tags", "cpus", "memory", "type"];
    private static readonly string[] MachineTypes = ["pc", "q35"];

    /// <summary>The console adapters (lab-contracts/Console/ADAPTERS.md).</summary>
    public static readonly IReadOnlyList<string> ConsoleKernels = ["lab", "redox", "linux"];

    /// <summary>The outcomes an end line may give.</summary>
    private static readonly Api.Outcome[] EndOutcomes = [Api.Outcome.Passed, Api.Outcome.TestFailed, Api.Outcome.KernelPanic, Api.Outcome.MachineReset];

    private static BuildSpec ReadBuild(YamlMap build)
    {
        var commands = build.TextList("commands");
        if (commands.Count == 0)
        {
            throw build.Get("commands") is { } node ? build.Fail(node, "commands", "needs at least one command") : build.Missing("commands");
        }

        var artifacts = build.Map("artifacts", "image", "elf", "modules", "symbols") ?? throw build.Missing("artifacts");
        return new BuildSpec(
            commands,
            ReadEnv(build),
            artifacts.RequiredText("image"),
            artifacts.Text("elf"),
            artifacts.TextList("modules"),
            Duration(build, "timeout", DefaultBuildTimeout))
        {
            Symbols = artifacts.TextList("symbols"),
            Network = build.Parsed("network", false, t => t switch { "true" => true, "false" => false, _ => (bool?)null }, "true or false"),
        };
    }

    private static BootSpec ReadBoot(YamlMap? boot)
    {
        var defaults = new MachineRequirements([], 1, DefaultMemoryMiB);
        if (boot is null)
        {
            return new BootSpec(1, DefaultBootTimeout, "", defaults);
        }

        if (boot.Get("cmdline") is not null && boot.Text("method") is "disk" or "disk-uefi")
        {
            throw boot.Fail(boot.Get("cmdline")!, "cmdline", "a disk image boots with its own bootloader's command line: give none with boot.method disk or disk-uefi");
        }

        var machine = boot.Map("machine", MachineKeys);
        var method = boot.Text("method") switch
        {
            null or "kernel" => BootMethod.Kernel,
            "disk" => BootMethod.Disk,
            "disk-uefi" => BootMethod.DiskUefi,
            var other => throw boot.Fail(boot.Get("method")!, "method", $"'{other}' is not a boot method (kernel, disk, disk-uefi)"),
        };
        var timeout = Duration(boot, "timeout", DefaultBootTimeout);
        TimeSpan? silence = boot.Get("silence") is null ? null : Duration(boot, "silence", timeout);
        return new BootSpec(
            Count(boot, "count", 1, 1, 100),
            timeout,
            boot.Text("cmdline") ?? "",
            machine is null ? defaults : ReadMachine(machine, defaults),
            method,
            silence);
    }

    /// <summary><paramref name="baseline"/> with the fields <paramref name="machine"/> sets (boot.machine over the defaults, a variant's over boot.machine).</summary>
    private static MachineRequirements ReadMachine(YamlMap machine, MachineRequirements baseline)
    {
        int? memory = null;
        if (machine.Get("memory") is { } node)
        {
            double mib = machine.Parsed("memory", 0d, PipelineValues.SizeMiB, "a size (256M, 2G, 2048K or whole MiB)");
            if (mib != Math.Floor(mib))
            {
                throw machine.Fail(node, "memory", $"'{machine.Text("memory")}' is not a whole number of MiB");
            }

            memory = mib is >= 1 and <= int.MaxValue ? (int)mib : throw machine.Fail(node, "memory", $"must be from 1 MiB to {int.MaxValue} MiB");
        }

        string type = machine.Text("type") ?? baseline.Type;
        if (Array.IndexOf(MachineTypes, type) < 0)
        {
            throw machine.Fail(machine.Get("type")!, "type", $"'{type}' is not a machine type (pc, q35)");
        }

        return new MachineRequirements(
            machine.Get("tags") is null ? baseline.Tags : machine.TextList("tags"),
            Count(machine, "cpus", baseline.Cpus, 1, 64),
            memory ?? baseline.MemoryMiB,
            type);
    }

    private static ConsoleSpec ReadConsole(YamlMap? console)
    {
        if (console is null)
        {
            return new ConsoleSpec([], null);
        }

        var panic = console.List("panic").Select(item => CheckRegex(console.File, item.Node, item.Path)).ToList();
        string? success = console.Get("success") is { } node ? CheckRegex(console.File, node, console.FieldPath("success")) : null;
        string kernel = console.Text("kernel") ?? "lab";
        if (!ConsoleKernels.Contains(kernel))
        {
            throw console.Fail(console.Get("kernel")!, "kernel", $"'{kernel}' is not a console adapter ({string.Join(", ", ConsoleKernels)})");
        }

        var end = new List<EndLineSpec>();
        foreach (var (item, path) in console.List("end"))
        {
            var line = YamlMap.Open(console.File, path, item, "regex", "outcome");
            string regex = line.Get("regex") is { } r ? CheckRegex(console.File, r, line.FieldPath("regex")) : throw line.Missing("regex");
            string name = line.RequiredText("outcome");
            if (!Api.OutcomeNames.TryParse(name, out var outcome) || Array.IndexOf(EndOutcomes, outcome) < 0)
            {
                throw line.Fail(line.Get("outcome")!, "outcome", $"'{name}' is not an end outcome ({string.Join(", ", EndOutcomes.Select(o => Api.OutcomeNames.ToName(o)))})");
            }

            end.Add(new EndLineSpec(regex, outcome));
        }

        return new ConsoleSpec(panic, success, kernel, end);
    }

    private static List<StageSpec> ReadStages(YamlMap root)
    {
        var stages = new List<StageSpec>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (node, path) in root.List("stages"))
        {
            var stage = YamlMap.Open(root.File, path, node, "name", "marker", "regex");
            string name = stage.Checked("name", MarkerSyntax.IsName, "a stage name ([a-z0-9_.-]+)");
            if (!seen.TryAdd(name, stage.Get("name")!.Start.Line))
            {
                throw stage.Fail(stage.Get("name")!, "name", $"stage '{name}' is listed twice (first on line {seen[name]})");
            }

            var marker = stage.Get("marker");
            var regex = stage.Get("regex");
            if ((marker is null) == (regex is null))
            {
                throw YamlMap.Fail(root.File, node, path, marker is null ? "needs a marker or a regex" : "has both a marker and a regex: give exactly one");
            }

            stages.Add(new StageSpec(
                name,
                marker is null ? null : stage.Checked("marker", MarkerSyntax.IsName, "a stage marker name ([a-z0-9_.-]+)"),
                regex is null ? null : CheckRegex(root.File, regex, stage.FieldPath("regex"))));
        }

        return stages;
    }

    private static List<VariantSpec> ReadVariants(YamlMap root, IReadOnlyDictionary<string, string> buildEnv, MachineRequirements machine)
    {
        var variants = new List<VariantSpec>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (node, path) in root.List("variants"))
        {
            var variant = YamlMap.Open(root.File, path, node, "name", "env", "machine");
            string name = variant.Checked("name", MarkerSyntax.IsName, "a variant name ([a-z0-9_.-]+)");
            if (!seen.TryAdd(name, variant.Get("name")!.Start.Line))
            {
                throw variant.Fail(variant.Get("name")!, "name", $"variant '{name}' is defined twice (first on line {seen[name]})");
            }

            var env = new Dictionary<string, string>(buildEnv, StringComparer.Ordinal);
            foreach (var (key, value) in ReadEnv(variant))
            {
                env[key] = value;
            }

            var overrides = variant.Map("machine", MachineKeys);
            variants.Add(new VariantSpec(name, env, overrides is null ? machine : ReadMachine(overrides, machine)));
        }

        return variants.Count > 0 ? variants : [new VariantSpec("default", buildEnv, machine)];
    }

    /// <summary>The <c>env</c> mapping of <paramref name="parent"/>: variable names to text (an empty value is <c>""</c>).</summary>
    private static Dictionary<string, string> ReadEnv(YamlMap parent)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (parent.Get("env") is not { } node)
        {
            return env;
        }

        if (node is not YamlDotNet.RepresentationModel.YamlMappingNode mapping)
        {
            throw parent.Fail(node, "env", "expected a mapping of variable names to values");
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string key = YamlMap.Scalar(parent.File, keyNode, parent.FieldPath("env"));
            string field = $"{parent.FieldPath("env")}.{key}";
            if (!IsEnvName(key))
            {
                throw YamlMap.Fail(parent.File, keyNode, field, $"'{key}' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
            }

            env[key] = YamlMap.Scalar(parent.File, valueNode, field);
        }

        return env;
    }

    private static bool IsEnvName(string s) =>
        s.Length > 0 && !char.IsAsciiDigit(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static int Count(YamlMap map, string key, int fallback, int min, int max)
    {
        long value = map.Parsed(key, (long)fallback, PipelineValues.Integer, "an integer");
        return value >= min && value <= max ? (int)value : throw map.Fail(map.Get(key)!, key, $"must be {min}..{max}, not {value}");
    }

    private static TimeSpan Duration(YamlMap map, string key, TimeSpan fallback)
    {
        var value = map.Parsed(key, fallback, PipelineValues.Duration, "a duration (90s, 10m, 500ms, 1h or whole seconds)");
        if (value <= TimeSpan.Zero || value > PipelineValues.MaxDuration)
        {
            throw map.Fail(map.Get(key)!, key, $"must be more than 0 and at most {PipelineValues.MaxDuration.TotalDays} days");
        }

        return value;
    }

    private static string CheckRegex(string file, YamlDotNet.RepresentationModel.YamlNode node, string field)
    {
        string pattern = YamlMap.Scalar(file, node, field);
        if (pattern.Length == 0)
        {
            throw YamlMap.Fail(file, node, field, "an empty regex matches every line");
        }

        return PipelineRegex.Check(pattern) is { } error
            ? throw YamlMap.Fail(file, node, field, $"'{pattern}' is not a valid regex: {error}")
            : pattern;
    }
}
