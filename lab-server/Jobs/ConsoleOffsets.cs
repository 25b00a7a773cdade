namespace Redox.Lab.Server.Jobs;

/// <summary>What to do with a console chunk, given how many lines the server already holds.</summary>
/// <param name="Gap">The chunk starts past the stored lines: refuse it, the agent resends from <paramref name="Next"/>.</param>
/// <param name="Skip">Leading lines of the chunk already stored (a retried upload).</param>
/// <param name="Next">The stored count after the chunk is applied.</param>
public readonly record struct ConsolePlan(bool Gap, int Skip, long Next)
{
    /// <summary>Lines of the chunk to insert.</summary>
    public int Take(int chunkLines) => Gap ? 0 : chunkLines - Skip;

    /// <summary>Appending by offset: lines below <paramref name="stored"/> are skipped, a chunk past it is a gap.</summary>
    public static ConsolePlan For(long stored, long offset, int lines)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stored);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        if (offset > stored) return new ConsolePlan(true, 0, stored);
        var skip = (int)Math.Min(lines, stored - offset);
        return new ConsolePlan(false, skip, Math.Max(stored, offset + lines));
    }
}
