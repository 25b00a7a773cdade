using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// A job's outcome as the server decides it from what it stored, not from the agent's word. The agent's
/// completion counts as is only for what the server cannot check: an infrastructure failure (the lab's
/// fault, retried), a failed build and a job timeout (no boot to check them against). Everything about boots
/// comes from the stored boot reports: a "passed" completion with a failed boot is that boot's outcome; a
/// "passed" with boots missing is an infra-error; a kernel outcome with no boot stored is an infra-error
/// (the agent blames a kernel the server has no evidence against). A job a user cancelled is cancelled.
/// </summary>
public static class JobOutcomes
{
    /// <summary>The outcome and detail to store.</summary>
    /// <param name="claim">What the agent said.</param>
    /// <param name="cancelRequested">A user cancelled the job while it ran.</param>
    /// <param name="boots">The stored boots' outcomes by index.</param>
    /// <param name="expectedBoots">Boots the job had to run (the run's boot count, else the pipeline's); null when unknown.</param>
    public static (Outcome Outcome, string? Detail) Derive(
        JobCompletion claim, bool cancelRequested, IReadOnlyDictionary<int, Outcome> boots, int? expectedBoots)
    {
        if (cancelRequested) return (Outcome.Cancelled, claim.Detail is { } d ? $"cancelled; the agent said: {d}" : "cancelled");
        if (claim.Outcome.Kind() == OutcomeKind.Infrastructure) return (claim.Outcome, claim.Detail);
        if (claim.Outcome == Outcome.Cancelled)
            return (Outcome.InfraError, $"the agent ended the job as cancelled, but nobody cancelled it{Said(claim)}");

        var worstBoot = boots.Count == 0 ? (Outcome?)null : boots.Values.Aggregate(Outcome.Passed, OutcomeNames.Worst);
        if (claim.Outcome is Outcome.BuildFailed or Outcome.JobTimeout)
        {
            // Not checkable against boots; a boot that did worse still shows.
            return worstBoot is { } w && OutcomeNames.Worst(w, claim.Outcome) != claim.Outcome
                ? (w, $"{FirstWith(boots, w)}; the agent said {claim.Outcome.ToName()}{Said(claim)}")
                : (claim.Outcome, claim.Detail);
        }

        // Passed or a boot outcome: only the stored boots say which.
        if (worstBoot is not { } worst)
            return (Outcome.InfraError, $"the agent reported {claim.Outcome.ToName()} but no boot report was stored{Said(claim)}");
        if (worst == Outcome.Passed && expectedBoots is { } expected && boots.Count < expected)
            return (Outcome.InfraError, $"{boots.Count} of {expected} boots reported; the agent said {claim.Outcome.ToName()}");
        if (worst == claim.Outcome) return (worst, claim.Detail ?? FirstWith(boots, worst));
        return (worst, $"{FirstWith(boots, worst)} (from the stored boots; the agent said {claim.Outcome.ToName()})");
    }

    /// <summary>Boots the job must run: the run's count (lab-scheduled runs), else the variant's pipeline's; null when the pipeline does not load.</summary>
    public static int? ExpectedBoots(int? runBootCount, string pipelineYaml, string pipelinePath)
    {
        // The agent runs the run's count when it is in 1..100 (Jobs/JobRunner), else the pipeline's.
        if (runBootCount is > 0 and <= 100) return runBootCount;
        try
        {
            return PipelineLoader.Load(pipelineYaml, pipelinePath).Boot.Count;
        }
        catch (PipelineException)
        {
            return null;
        }
    }

    private static string FirstWith(IReadOnlyDictionary<int, Outcome> boots, Outcome outcome)
    {
        var index = boots.Where(b => b.Value == outcome).Min(b => b.Key);
        var count = boots.Count(b => b.Value == outcome);
        return $"boot {index}: {outcome.ToName()}" + (count > 1 ? $" ({count} of {boots.Count} boots)" : "");
    }

    private static string Said(JobCompletion claim) => claim.Detail is { Length: > 0 } d ? $": {d}" : "";
}
