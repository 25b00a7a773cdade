namespace Redox.Lab.Contracts.Pipelines;

/// <summary>A pipeline file that does not validate: <see cref="Exception.Message"/> reads <c>file:line:column: field: what is wrong</c>.</summary>
public sealed class PipelineException(string file, int line, int column, string field, string problem)
    : Exception($"{file}:{line}:{column}: {field}: {problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}

/// <summary>Reads and validates pipeline files (pipelines/FORMAT.md).</summary>
public static class PipelineLoader
{
    /// <summary>Parses and validates; throws <see cref="PipelineException"/> naming the first fault.</summary>
    /// <param name="yaml">The file's text.</param>
    /// <param name="file">Its path, for messages.</param>
    public static PipelineDefinition Load(string yaml, string file = "pipeline.yaml") => throw new NotImplementedException();
}
