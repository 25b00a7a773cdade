namespace Redox.Lab.Contracts.Api;

// Verdicts, bugs, bisections, calibration and compare (GET /api/runs/{id}/verdicts, /api/bugs, /api/regressions,
// /api/bisections/{id}, /api/calibrations, /api/compare): what the dashboard, lab-cli compare and scripts read.

/// <summary>One verdict: a metric, stage, test or bug of the candidate against its baseline, on one machine and variant.</summary>
/// <remarks>
/// <para><c>Subject</c>: metric, stage, test, bug, or history (a lasting step found by change-point detection).</para>
/// <para><c>Verdict</c>: regression, improvement, no-change, inconclusive, known (a test or bug failing on both sides).</para>
/// <para><c>Shift</c>: Hodges-Lehmann estimate of candidate minus baseline, in <c>Unit</c>.</para>
/// <para><c>ShiftLow</c>: Lower end of the shift's confidence interval (1 - alpha), null when the samples are too few.</para>
/// <para><c>RelativeShift</c>: Shift over the baseline's median (0.05: 5% higher).</para>
/// <para><c>P</c>: Two-sided Mann-Whitney p.</para>
/// <para><c>Threshold</c>: The relative threshold applied; <c>ThresholdSource</c> says whether from the pipeline, the machine's calibration or the default.</para>
/// <para><c>BaselineBoots</c>: Samples (boots) on the baseline side.</para>
/// <para><c>CandidateBoots</c>: Samples on the candidate side.</para>
/// <para><c>Rounds</c>: Rounds of extra boots (baseline then candidate) this verdict took.</para>
/// </remarks>
public sealed record VerdictView(
    string Machine, string Variant, string Subject, string Name, string Verdict,
    string? Unit, string? Better, int BaselineBoots, int CandidateBoots,
    double? BaselineMedian, double? CandidateMedian, double? Shift, double? ShiftLow, double? ShiftHigh, double? RelativeShift,
    double? P, double? Threshold, string? ThresholdSource, int Rounds, string? Detail, Guid? BugId, string? BugTitle,
    string? BaselineCommit = null);

/// <summary>A run's verdicts and what it is judged against.</summary>
/// <remarks>
/// <para><c>Kind</c>: push, baseline, extra, bisect or calibration.</para>
/// <para><c>BaselineCommit</c>: The commit it is compared with; null: none (see <c>BaselineReason</c>).</para>
/// <para><c>Judged</c>: False while the judge still waits for boots (baseline or extra runs pending).</para>
/// <para><c>Pending</c>: Runs the judge scheduled for this run that have not ended.</para>
/// </remarks>
public sealed record RunVerdictsView(
    Guid RunId, string Kind, string Commit, string? BaselineCommit, string? BaselineReason, bool Judged, int Pending,
    IReadOnlyList<VerdictView> Verdicts, IReadOnlyList<BisectionView> Bisections)
{
    public bool HasRegression => Verdicts.Any(v => v.Verdict == "regression");
}

/// <summary>A bug: the findings of one repository that share a signature.</summary>
/// <remarks>
/// <para><c>State</c>: new, known or fixed.</para>
/// <para><c>FixedCommit</c>: the oldest clean default-branch commit after the last that showed it (where it was fixed).</para>
/// </remarks>
public sealed record BugView(
    Guid Id, string Repository, string Signature, string Kind, string Title, string State, int Count,
    Guid FirstRunId, string FirstCommit, DateTimeOffset FirstSeenAt,
    Guid LastRunId, string LastCommit, DateTimeOffset LastSeenAt, DateTimeOffset? FixedAt,
    IReadOnlyList<string> Commits, IReadOnlyList<string> Machines, string? FixedCommit = null);

/// <summary>One finding of a bug, where it was seen.</summary>
public sealed record BugSighting(Guid RunId, Guid JobId, string Commit, string? Branch, string Machine, string Variant, int Boot, DateTimeOffset At, FindingReport Finding);

/// <summary>A bug with its latest sightings.</summary>
public sealed record BugDetailView(BugView Bug, IReadOnlyList<BugSighting> Sightings);

/// <summary>A bisection of a regression between a good and a bad commit.</summary>
/// <remarks>
/// <para><c>State</c>: running, done, capped (the step cap came first) or failed.</para>
/// <para><c>Evidence</c>: One line per step: commit, good or bad, and why.</para>
/// </remarks>
public sealed record BisectionView(
    Guid Id, Guid RunId, string Machine, string Variant, string Subject, string Name,
    string GoodCommit, string BadCommit, int Commits, int Steps, int MaxSteps, string State,
    string? FirstBadCommit, string? StepCommit, IReadOnlyList<string> Evidence);

/// <summary>A regression with the run and commit it belongs to, and its bisection when one ran.</summary>
public sealed record RegressionView(Guid RunId, string Repository, string Commit, string? Branch, DateTimeOffset At, VerdictView Verdict, BisectionView? Bisection);

/// <summary>A/A calibration of one series on one machine.</summary>
/// <remarks>
/// <para><c>FalsePositiveRate</c>: Share of A/A comparisons whose verdict said regression or improvement.</para>
/// <para><c>Noise</c>: Median relative spread of the samples (boot-to-boot noise).</para>
/// <para><c>Threshold</c>: The default threshold the calibration sets (null while too few comparisons).</para>
/// </remarks>
public sealed record CalibrationView(
    string Machine, string Pipeline, string Variant, string Subject, string Name,
    int Comparisons, int FalsePositives, double FalsePositiveRate, double Noise, double MedianAbsoluteShift, double? Threshold);

/// <summary>POST /api/calibrations: calibrate on the machines (or one machine) that ran <c>Run</c>.</summary>
public sealed record CalibrationRequest(Guid Run, string? Machine = null);

/// <summary>The runs a calibration request scheduled.</summary>
public sealed record CalibrationScheduled(IReadOnlyList<Guid> Runs);

/// <summary>GET /api/compare?a=&amp;b=: B against A (A is the baseline), per machine and variant both ran.</summary>
/// <remarks>
/// <para><c>A</c>: A run or job id.</para>
/// <para><c>BugsAdded</c>: Bugs seen in B and not in A.</para>
/// <para><c>BugsRemoved</c>: Bugs seen in A and not in B.</para>
/// </remarks>
public sealed record CompareView(
    Guid A, Guid B, string CommitA, string CommitB,
    IReadOnlyList<VerdictView> Verdicts, IReadOnlyList<BugView> BugsAdded, IReadOnlyList<BugView> BugsRemoved)
{
    public bool HasRegression => Verdicts.Any(v => v.Verdict == "regression");
}
