using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Console;

/// <summary>Where a boot's console lines go: the job's uploader, or a health check's memory.</summary>
public interface IConsoleSink
{
    /// <summary>Takes one line; returns its index among the job's lines.</summary>
    long Add(ConsoleLine line);
}

/// <summary>Keeps the lines: a health check's console, which belongs to no job.</summary>
public sealed class MemoryConsoleSink : IConsoleSink
{
    private readonly List<ConsoleLine> _lines = [];

    public IReadOnlyList<ConsoleLine> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public long Add(ConsoleLine line)
    {
        lock (_lines)
        {
            _lines.Add(line);
            return _lines.Count - 1;
        }
    }
}
