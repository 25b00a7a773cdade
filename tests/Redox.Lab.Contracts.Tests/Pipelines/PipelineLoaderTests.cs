using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Tests.Pipelines;

public class PipelineLoaderTests
{
    // Line numbers in the error tests below count from this file's first line.
    private const string Minimal = """
        name: demo
        build:
          commands: [make]
          artifacts:
            image: kernel.bin
        """;

    /// <summary>The example of pipelines/FORMAT.md, verbatim but for the comments.</summary>
    private const string FormatExample = """
        name: redox-reference
        description: The lab's reference kernel
        build:
          commands:
            - make -C kernel
          env:
            CFLAGS_EXTRA: ""
          artifacts:
            image: kernel/build/kernel.bin
            elf: kernel/build/kernel.elf
            modules: []
          timeout: 10m
        boot:
          count: 1
          timeout: 60s
          cmdline: ""
          machine:
            tags: [qemu]
            cpus: 1
            memory: 256M
        job:
          timeout: 20m
        console:
          panic: ['KERNEL PANIC', 'Kernel panic - not syncing']
          success: 'login:'
        stages:
          - name: entry
            marker: entry
          - name: userspace
            regex: 'Bootstrap entry point: ([0-9a-f]+)'
        variants:
          - name: p2buddy
            env: { ALLOCATOR: p2buddy }
          - name: predecessor
            env: { ALLOCATOR: rmm }
            machine: { memory: 2G }
        """;

    /// <summary>pipelines/redox-reference.yaml as the repository holds it (copied beside the tests at build).</summary>
    internal static string ReferenceYaml() =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Pipelines", "redox-reference.yaml"));

    [Fact]
    public void Load_RepositoryReferenceFile_Loads()
    {
        var p = PipelineLoader.Load(ReferenceYaml(), "pipelines/redox-reference.yaml");

        Assert.Equal("redox-reference", p.Name);
        Assert.Equal(["make -C kernel"], p.Build.Commands);
        Assert.Equal(("kernel/build/kernel.bin", "kernel/build/kernel.elf"), (p.Build.Image, p.Build.Elf));
        Assert.Equal((TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(90), TimeSpan.FromMinutes(20)), (p.Build.Timeout, p.Boot.Timeout, p.JobTimeout));
        Assert.Equal(["x86_64"], p.Boot.Machine.Tags);
        Assert.InRange(p.Boot.Machine.Cpus, 1, 8);
        Assert.Equal(256, p.Boot.Machine.MemoryMiB);
        Assert.Equal(["KERNEL PANIC"], p.Console.Panic);
        Assert.Equal(["entry", "long-mode", "serial", "tsc"], p.Stages.Select(s => s.Marker).Take(4));
        Assert.Equal("kmain-done", p.Stages[^1].Marker);
        Assert.All(p.Stages, s => Assert.Equal(s.Name, s.Marker));
        Assert.Equal(["p2buddy", "rmm"], p.Variants.Select(v => v.Name));
        Assert.Equal("rmm", p.Variant("rmm").Env["ALLOCATOR"]);
        Assert.Equal(256, p.Variant("rmm").Machine.MemoryMiB);
    }

    [Fact]
    public void Load_FormatExample_ResolvesVariants()
    {
        var p = PipelineLoader.Load(FormatExample);

        Assert.Equal("The lab's reference kernel", p.Description);
        Assert.Equal(new StageSpec("userspace", null, "Bootstrap entry point: ([0-9a-f]+)"), p.Stages[1]);
        Assert.Equal("login:", p.Console.Success);
        Assert.Equal(["p2buddy", "predecessor"], p.Variants.Select(v => v.Name));
        var predecessor = p.Variant("predecessor");
        Assert.Equal(new Dictionary<string, string> { ["CFLAGS_EXTRA"] = "", ["ALLOCATOR"] = "rmm" }, predecessor.Env);
        Assert.Equal((2048, 1), (predecessor.Machine.MemoryMiB, predecessor.Machine.Cpus));
        Assert.Equal(["qemu"], predecessor.Machine.Tags);
        Assert.Equal(256, p.Variant("p2buddy").Machine.MemoryMiB);
        Assert.Equal("p2buddy", p.Variant("p2buddy").Env["ALLOCATOR"]);
        Assert.Throws<KeyNotFoundException>(() => p.Variant("default"));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("  network: false\n", false)]
    [InlineData("  network: true\n", true)]
    public void Load_BuildNetwork_ParsedAndOffByDefault(string line, bool expected)
    {
        var p = PipelineLoader.Load(Minimal.Replace("  commands: [make]\n", "  commands: [make]\n" + line, StringComparison.Ordinal));

        Assert.Equal(expected, p.Build.Network);
    }

    [Fact]
    public void Load_BuildNetworkNotBoolean_FailsNamingField()
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(Minimal.Replace("  commands: [make]\n", "  commands: [make]\n  network: yes-please\n", StringComparison.Ordinal)));

        Assert.Equal("build.network", e.Field);
    }

    [Fact]
    public void Load_MinimalFile_AppliesDefaults()
    {
        var p = PipelineLoader.Load(Minimal);

        Assert.Equal(new BootSpec(1, TimeSpan.FromSeconds(60), "", p.Boot.Machine), p.Boot);
        Assert.Equal(([], 1, 256), (p.Boot.Machine.Tags, p.Boot.Machine.Cpus, p.Boot.Machine.MemoryMiB));
        Assert.Equal((TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30)), (p.Build.Timeout, p.JobTimeout));
        Assert.Equal(([], null), (p.Console.Panic, p.Console.Success));
        Assert.Empty(p.Stages);
        Assert.Empty(p.Build.Env);
        Assert.Equal("default", Assert.Single(p.Variants).Name);
    }

    [Theory]
    [InlineData("90", 90_000)]
    [InlineData("90s", 90_000)]
    [InlineData("10m", 600_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5m", 90_000)]
    public void Load_Durations_Parse(string text, long ms)
    {
        var p = PipelineLoader.Load(Minimal + $"\nboot:\n  timeout: {text}");

        Assert.Equal(TimeSpan.FromMilliseconds(ms), p.Boot.Timeout);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("256M", 256)]
    [InlineData("2G", 2048)]
    [InlineData("2048K", 2)]
    [InlineData("1.5G", 1536)]
    public void Load_Sizes_Parse(string text, int mib)
    {
        var p = PipelineLoader.Load(Minimal + $"\nboot:\n  machine:\n    memory: {text}");

        Assert.Equal(mib, p.Boot.Machine.MemoryMiB);
    }

    [Theory]
    // Scalars that do not parse or are out of range: the value's position.
    [InlineData("boot:\n  timeout: 90 parsecs", 7, 12, "boot.timeout", "'90 parsecs' is not a duration")]
    [InlineData("boot:\n  timeout: 1.5", 7, 12, "boot.timeout", "is not a duration")]
    [InlineData("boot:\n  timeout: 0s", 7, 12, "boot.timeout", "must be more than 0")]
    [InlineData("boot:\n  timeout: 10d", 7, 12, "boot.timeout", "is not a duration")]
    [InlineData("job:\n  timeout: 9000h", 7, 12, "job.timeout", "at most 7 days")]
    [InlineData("boot:\n  machine:\n    memory: 12X", 8, 13, "boot.machine.memory", "'12X' is not a size")]
    [InlineData("boot:\n  machine:\n    memory: 512K", 8, 13, "boot.machine.memory", "not a whole number of MiB")]
    [InlineData("boot:\n  count: 0", 7, 10, "boot.count", "must be 1..100, not 0")]
    [InlineData("boot:\n  count: 101", 7, 10, "boot.count", "must be 1..100")]
    [InlineData("boot:\n  count: two", 7, 10, "boot.count", "'two' is not an integer")]
    [InlineData("boot:\n  machine:\n    cpus: 65", 8, 11, "boot.machine.cpus", "must be 1..64")]
    // Keys the format does not know: the key's position.
    [InlineData("bot:\n  count: 1", 6, 1, "bot", "unknown key 'bot'")]
    [InlineData("boot:\n  machine:\n    memroy: 2G", 8, 5, "boot.machine.memroy", "unknown key 'memroy'")]
    [InlineData("variants:\n  - name: a\n    envv: {}", 8, 5, "variants[0].envv", "unknown key 'envv'")]
    // Wrong node kinds.
    [InlineData("boot: [1, 2]", 6, 7, "boot", "expected a mapping")]
    [InlineData("stages:\n  name: entry", 7, 3, "stages", "expected a list, found a mapping")]
    [InlineData("stages:\n  - entry", 7, 5, "stages[0]", "expected a mapping")]
    [InlineData("console:\n  success: [a]", 7, 12, "console.success", "expected a value, found a list")]
    // Stages.
    [InlineData("stages:\n  - name: a\n    marker: a\n  - name: b\n    marker: b\n    regex: b", 9, 5, "stages[1]", "exactly one")]
    [InlineData("stages:\n  - name: a", 7, 5, "stages[0]", "needs a marker or a regex")]
    [InlineData("stages:\n  - name: a\n    regex: 'Bootstrap ([0-9a-f]+'", 8, 12, "stages[0].regex", "is not a valid regex")]
    [InlineData("stages:\n  - name: a\n    marker: Entry", 8, 13, "stages[0].marker", "'Entry' is not a stage marker name")]
    [InlineData("stages:\n  - name: a\n    marker: a\n  - name: a\n    marker: b", 9, 11, "stages[1].name", "listed twice (first on line 7)")]
    [InlineData("console:\n  panic: ['ok', '[unclosed']", 7, 17, "console.panic[1]", "is not a valid regex")]
    // Variants and env.
    [InlineData("variants:\n  - name: a\n  - name: a", 8, 11, "variants[1].name", "defined twice (first on line 7)")]
    [InlineData("variants:\n  - env: {}", 7, 5, "variants[0].name", "is required")]
    [InlineData("variants:\n  - name: a\n    machine: { cpus: 0 }", 8, 22, "variants[0].machine.cpus", "must be 1..64")]
    [InlineData("variants:\n  - name: a\n    env: { 1BAD: x }", 8, 12, "variants[0].env.1BAD", "not an environment variable name")]
    public void Load_InvalidField_NamesLineColumnAndField(string appended, int line, int column, string field, string problem)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(Minimal + "\n" + appended, "pipelines/demo.yaml"));

        Assert.Equal((line, column, field), (e.Line, e.Column, e.Field));
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"pipelines/demo.yaml:{line}:{column}: {field}: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("build:\n  commands: [make]\n  artifacts:\n    image: k", 1, 1, "name", "is required")]
    [InlineData("name: Redox Reference\nbuild:\n  commands: [make]\n  artifacts:\n    image: k", 1, 7, "name", "'Redox Reference' is not a name")]
    [InlineData("name: {a: b}", 1, 7, "name", "expected a value, found a mapping")]
    [InlineData("name: x", 1, 1, "build", "is required")]
    [InlineData("name: x\nbuild:\n  commands: []\n  artifacts:\n    image: k", 3, 13, "build.commands", "at least one command")]
    [InlineData("name: x\nbuild:\n  commands: {make: all}\n  artifacts:\n    image: k", 3, 13, "build.commands", "expected a list")]
    [InlineData("name: x\nbuild:\n  commands: [make]", 2, 1, "build.artifacts", "is required")]
    [InlineData("name: x\nbuild:\n  commands: [make]\n  artifacts:\n    elf: k", 4, 3, "build.artifacts.image", "is required")]
    [InlineData("name: x\nbuild:\n  commands: [make]\n  env: [A]\n  artifacts:\n    image: k", 4, 8, "build.env", "expected a mapping")]
    [InlineData("- name: x", 1, 1, "", "expected a mapping")]
    public void Load_InvalidTopLevel_NamesLineColumnAndField(string yaml, int line, int column, string field, string problem)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(yaml));

        Assert.Equal((line, column, field), (e.Line, e.Column, e.Field));
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void Load_EmptyFile_SaysSo(string yaml)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(yaml, "p.yaml"));

        Assert.Equal("p.yaml:1:1: (file): the file is empty", e.Message);
    }

    [Theory]
    [InlineData("name: x\nbuild:\n  commands: [make\n  timeout: 1m\n", 3, "(yaml)")]
    [InlineData("name: x\nname: y\n", 2, "(yaml)")]
    [InlineData("name: 'unterminated\n", 1, "(yaml)")]
    [InlineData("name: x\nboot:\n  - a\n  count: 1\n", 4, "(yaml)")]
    [InlineData("name: x\n---\nname: y\n", 3, "(file)")]
    public void Load_YamlSyntaxError_NamesParserPosition(string yaml, int line, string field)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineLoader.Load(yaml));

        Assert.Equal((line, field), (e.Line, e.Field));
        Assert.False(string.IsNullOrWhiteSpace(e.Problem));
    }
}
