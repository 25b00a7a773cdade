using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard.Pages.Run;

/// <summary>One run (<c>/runs/{id}</c>). Implemented by lab-server's <c>Dashboard/RunQuery</c>.</summary>
public interface IRunQuery
{
    /// <summary>Null when there is no such run.</summary>
    Task<RunModel?> GetAsync(Guid id, CancellationToken ct);
}

/// <param name="ExpectedStages">The pipeline's stages in order (empty when the pipeline names none).</param>
/// <param name="PanicRegexes">The pipeline's console panic regexes, for highlighting.</param>
/// <param name="Imports">Profiles uploaded to the run (<c>POST /api/runs/{id}/profiles</c>), oldest first.</param>
public sealed record RunModel(RunView Run, IReadOnlyList<string> ExpectedStages, IReadOnlyList<string> PanicRegexes, IReadOnlyList<JobModel> Jobs,
    IReadOnlyList<ImportedProfileLink>? Imports = null);

/// <summary>A profile uploaded to a run: its name, its reference (<c>import:ID</c>) and its samples.</summary>
public sealed record ImportedProfileLink(string Name, string Ref, long Samples);

/// <param name="MachineName"><c>agent/machine</c>.</param>
/// <param name="ConsoleLines">Lines stored for the job.</param>
public sealed record JobModel(JobView Job, string MachineName, long ConsoleLines, IReadOnlyList<BootModel> Boots);

/// <param name="Excerpt">For a boot that did not pass: the console around the line that failed it.</param>
public sealed record BootModel(BootView Boot, ConsoleExcerpt? Excerpt);

/// <param name="Line">Job-wide line number of the line that failed the boot (or its last line, for a hang).</param>
/// <param name="Why">How the line was found: <c>failure</c>, <c>finding</c>, <c>last line</c>.</param>
public sealed record ConsoleExcerpt(long Line, string Why, IReadOnlyList<NumberedLine> Lines);

/// <summary>A console line with its job-wide number.</summary>
public sealed record NumberedLine(long LineNo, int Boot, DateTimeOffset HostTime, string Text);
