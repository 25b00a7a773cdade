namespace Redox.Lab.Contracts.Api;

/// <summary>
/// A profile uploaded to a run (<c>POST /api/runs/{id}/profiles?name=..&amp;format=folded|perf-script</c>, the body the
/// file). <c>Ref</c> names it in the profile views: <c>/api/profiles/flamegraph?profile={Ref}</c>,
/// <c>/api/profiles/diff?base={Ref}&amp;head=...</c>.
/// </summary>
/// <param name="Id">The upload's id.</param>
/// <param name="RunId">The run it belongs to.</param>
/// <param name="Name">What the uploader called it.</param>
/// <param name="Format"><c>folded</c> or <c>perf-script</c>.</param>
/// <param name="Samples">Samples (perf-script) or the sum of the counts (folded).</param>
/// <param name="Stacks">Distinct stacks.</param>
/// <param name="SkippedLines">Input lines that were not a stack (folded) or not perf-script (warnings, damage): ignored.</param>
/// <param name="Event">The event type kept (perf-script); null for folded input.</param>
/// <param name="CreatedAt">When it was uploaded.</param>
/// <param name="Ref">Its profile reference, <c>import:{Id}</c>.</param>
public sealed record ImportedProfileView(
    Guid Id, Guid RunId, string Name, string Format, long Samples, int Stacks, long SkippedLines, string? Event,
    DateTimeOffset CreatedAt, string Ref);
