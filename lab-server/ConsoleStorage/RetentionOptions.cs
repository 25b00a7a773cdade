namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>The <c>Lab:Retention</c> section (STORAGE.md): when consoles are compressed, and how long what is kept.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Lab:Retention";

    /// <summary>A job's console is packed into compressed chunks this long after the job ended.</summary>
    public int CompactAfterMinutes { get; set; } = 10;

    /// <summary>Consoles (raw rows and chunks) of jobs that ended longer ago than this are deleted; 0 keeps them forever.</summary>
    public int ConsoleDays { get; set; } = 180;

    /// <summary>Artifacts (kernel ELFs, symbol files) of jobs that ended longer ago than this are deleted; 0 keeps them forever.</summary>
    public int ArtifactDays { get; set; } = 90;

    /// <summary>
    /// Per pipeline: the first rule whose <see cref="RetentionRule.Pipeline"/> pattern (Repositories/PipelinePattern:
    /// <c>*</c> within one path segment) matches the run's pipeline file wins; the days it leaves out are the defaults above.
    /// </summary>
    public List<RetentionRule> Pipelines { get; set; } = [];

    /// <summary>The (console, artifact) days for a run of <paramref name="pipelinePath"/>.</summary>
    public (int ConsoleDays, int ArtifactDays) For(string pipelinePath)
    {
        var rule = Pipelines.FirstOrDefault(r => Repositories.PipelinePattern.Matches(r.Pipeline, pipelinePath));
        return (rule?.ConsoleDays ?? ConsoleDays, rule?.ArtifactDays ?? ArtifactDays);
    }

    /// <summary>The shortest retention of any rule (0s, which keep forever, left out); null when all keep forever.</summary>
    public int? ShortestDays() =>
        Pipelines.SelectMany(r => new[] { r.ConsoleDays ?? ConsoleDays, r.ArtifactDays ?? ArtifactDays })
            .Append(ConsoleDays).Append(ArtifactDays)
            .Where(d => d > 0)
            .Select(d => (int?)d)
            .Min();
}

/// <summary>One pipeline's retention (<c>Lab:Retention:Pipelines:n</c>).</summary>
public sealed class RetentionRule
{
    /// <summary>The pipeline file, or a pattern: <c>pipelines/redox-reference*.yaml</c>.</summary>
    public string Pipeline { get; set; } = "";

    public int? ConsoleDays { get; set; }

    public int? ArtifactDays { get; set; }
}
