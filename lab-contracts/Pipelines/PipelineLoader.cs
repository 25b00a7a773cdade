using Redox.Lab.Contracts.Console;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Redox.Lab.Contracts.Pipelines;

/// <summary>A pipeline file that does not validate: <see cref="Exception.Message"/> reads <c>file:line:column: field: what is wrong</c>.</summary>
public sealed class PipelineException(string file, int line, int column, string field, string problem)
    : Exception($"{file}:{line}:{column}: {field}: {problem}")
{
    /// <summary>The file's path as given to the loader.</summary>
    public string File { get; } = file;

    /// <summary>1-based line of the fault.</summary>
    public int Line { get; } = line;

    /// <summary>1-based column of the fault.</summary>
    public int Column { get; } = column;

    /// <summary>Dotted path of the field at fault (<c>boot.machine.memory</c>, <c>stages[1].regex</c>); <c>(yaml)</c> for syntax errors, <c>(file)</c> for the file as a whole.</summary>
    public string Field { get; } = field;

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; } = problem;
}

/// <summary>Reads and validates pipeline files (pipelines/FORMAT.md).</summary>
public static partial class PipelineLoader
{
    private static readonly TimeSpan DefaultBuildTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan DefaultBootTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DefaultJobTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Parses and validates; throws <see cref="PipelineException"/> naming the first fault.</summary>
    /// <param name="yaml">The file's text.</param>
    /// <param name="file">Its path, for messages.</param>
    public static PipelineDefinition Load(string yaml, string file = "pipeline.yaml")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var root = YamlMap.Open(file, "", ParseDocument(yaml, file),
            "name", "description", "build", "boot", "job", "console", "stages", "variants", "judge");

        string name = root.Checked("name", MarkerSyntax.IsName, "a name ([a-z0-9_.-]+)");
        var buildMap = root.Map("build", "commands", "env", "artifacts", "timeout", "network") ?? throw root.Missing("build");
        var build = ReadBuild(buildMap);
        var boot = ReadBoot(root.Map("boot", "count", "timeout", "cmdline", "machine", "method", "silence"));
        if (boot.Method != BootMethod.Kernel && build.Modules.Count > 0)
        {
            var artifacts = buildMap.Map("artifacts", "image", "elf", "modules")!;
            throw artifacts.Fail(artifacts.Get("modules")!, "modules", "a disk image's bootloader loads its own modules: give none with boot.method disk or disk-uefi");
        }

        var job = root.Map("job", "timeout");
        var jobTimeout = job is null ? DefaultJobTimeout : Duration(job, "timeout", DefaultJobTimeout);
        return new PipelineDefinition(
            name,
            root.Text("description"),
            build,
            boot,
            jobTimeout,
            ReadConsole(root.Map("console", "panic", "success", "kernel", "end")),
            ReadStages(root),
            ReadVariants(root, build.Env, boot.Machine),
            ReadJudge(root.Map("judge", "alpha", "threshold", "boots", "metrics", "plumbing", "frames", "fixed-after", "bisect", "calibrate")));
    }

    /// <summary>The single document's root node; YAML syntax errors become <see cref="PipelineException"/> at the parser's position.</summary>
    private static YamlNode ParseDocument(string yaml, string file)
    {
        var parser = new Parser(new StringReader(yaml));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new PipelineException(file, (int)e.Start.Line, (int)e.Start.Column, "(yaml)", e.Message);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed flow collections ("a: [1, 2" then a
            // new key); the last event it produced is the best position there is.
            var at = parser.Current?.Start ?? Mark.Empty;
            throw new PipelineException(file, (int)at.Line, (int)at.Column, "(yaml)", "malformed YAML (an unclosed [ or { ?)");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: "" or null })
        {
            throw new PipelineException(file, 1, 1, "(file)", "the file is empty");
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw new PipelineException(file, (int)second.Line, (int)second.Column, "(file)", "a pipeline file holds one YAML document");
        }

        return stream.Documents[0].RootNode;
    }
}
