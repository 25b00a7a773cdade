using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Server.Machines;

/// <summary>Which machines a pipeline's jobs go to.</summary>
public static class MachineMatching
{
    /// <summary>A machine matches when it has every required tag (tags compare case-insensitively).</summary>
    public static bool Matches(IEnumerable<string> machineTags, IEnumerable<string> requiredTags)
    {
        var have = machineTags.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return requiredTags.All(have.Contains);
    }

    /// <summary>One job per variant per matching machine, in variant then machine order.</summary>
    public static IReadOnlyList<(string Variant, Guid MachineId)> Plan(
        IEnumerable<VariantSpec> variants, IReadOnlyList<(Guid Id, IReadOnlyList<string> Tags)> machines) =>
        variants
            .SelectMany(v => machines.Where(m => Matches(m.Tags, v.Machine.Tags)).Select(m => (v.Name, m.Id)))
            .ToList();

    /// <summary>The tags no machine could satisfy, for the run's detail.</summary>
    public static IReadOnlyList<string> RequiredTags(IEnumerable<VariantSpec> variants) =>
        variants.SelectMany(v => v.Machine.Tags).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
}
