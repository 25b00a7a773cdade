using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Profiles;

/// <summary>One profile's folded stacks, what to call it, and which stored profile it is (<c>boot:JOB:INDEX</c> or <c>import:ID</c>).</summary>
public sealed record LoadedProfile(string Label, string Folded, string Key);

/// <summary>
/// Finds profiles by reference, one or a group:
/// <c>boot:{jobId}:{index}</c> one boot's profile; <c>job:{jobId}</c> every profiled boot of a job;
/// <c>run:{runId}:{variant}</c> every profiled boot of the run's jobs of that variant; <c>import:{id}</c> an
/// uploaded profile. The two sides of a verdict: <c>candidate:{runId}:{variant}</c> every profiled boot of the
/// run's commit and <c>baseline:{runId}:{variant}</c> of its baseline commit, each with the run's pipeline and
/// variant on the machines the run's jobs of that variant used, from every run but calibrations (the push, its
/// baseline and extra boots, bisection steps), as the verdicts count them (<c>SampleQueries.OfCommitAsync</c>).
/// Several references separated by commas are one group: every profile they name, each once (a boot two of them
/// name is one observation, not two), so boots or uploads can be compared as sets however they were recorded.
/// </summary>
public sealed class ProfileLibrary(LabDbContext db)
{
    /// <summary>At most this many references in one comma-separated group (a hundred uploads' references fit in Kestrel's 8 KiB request line).</summary>
    public const int MaxGroupReferences = 100;

    /// <summary>The profiles <paramref name="reference"/> names (none: it names nothing with a profile).</summary>
    /// <exception cref="FormatException">Not a reference, or a group of too many.</exception>
    /// <exception cref="KeyNotFoundException">A reference in a group names no profile.</exception>
    public async Task<IReadOnlyList<LoadedProfile>> LoadAsync(string reference, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var references = reference.Split(',');
        if (references.Length == 1) return await LoadOneAsync(reference, ct);
        if (references.Length > MaxGroupReferences)
            throw new FormatException($"a group has {references.Length} references; at most {MaxGroupReferences}");
        var group = new List<LoadedProfile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? missing = null;
        foreach (var one in references)
        {
            // Every reference is read before a missing one is reported: a malformed one is the clearer error.
            var profiles = await LoadOneAsync(one, ct);
            if (profiles.Count == 0) missing ??= one;
            group.AddRange(profiles.Where(p => seen.Add(p.Key)));
        }
        return missing is null ? group : throw new KeyNotFoundException($"{missing} names no profile");
    }

    private async Task<IReadOnlyList<LoadedProfile>> LoadOneAsync(string reference, CancellationToken ct)
    {
        var parts = reference.Split(':');
        switch (parts)
        {
            case ["boot", var job, var index] when Guid.TryParse(job, out var jobId) && int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i):
                return await BootsAsync(db.Boots.Where(b => b.JobId == jobId && b.Index == i), ct);
            case ["job", var job] when Guid.TryParse(job, out var jobId):
                return await BootsAsync(db.Boots.Where(b => b.JobId == jobId), ct);
            case ["run", var run, var variant] when Guid.TryParse(run, out var runId) && variant.Length > 0:
                var jobs = db.Jobs.Where(j => j.RunId == runId && j.Variant == variant).Select(j => j.Id);
                return await BootsAsync(db.Boots.Where(b => jobs.Contains(b.JobId)), ct);
            case [var side and ("candidate" or "baseline"), var run, var variant] when Guid.TryParse(run, out var runId) && variant.Length > 0:
                return await SideAsync(runId, variant, side == "baseline", ct);
            case ["import", var id] when Guid.TryParse(id, out var importId):
                return await db.Set<ImportedProfileRow>().AsNoTracking().Where(p => p.Id == importId)
                    .Select(p => new LoadedProfile(p.Name, p.Folded, "import:" + p.Id)).ToListAsync(ct);
            default:
                throw new FormatException($"'{reference}' is not a profile reference (boot:JOB:INDEX, job:JOB, run:RUN:VARIANT, candidate:RUN:VARIANT, baseline:RUN:VARIANT or import:ID; several separated by commas for a group)");
        }
    }

    private async Task<IReadOnlyList<LoadedProfile>> SideAsync(Guid runId, string variant, bool baseline, CancellationToken ct)
    {
        var run = await db.Runs.AsNoTracking().Where(r => r.Id == runId)
            .Select(r => new { r.RepositoryId, r.Commit, r.PipelinePath, r.BaselineCommit }).SingleOrDefaultAsync(ct);
        var commit = baseline ? run?.BaselineCommit : run?.Commit;
        if (run is null || commit is null) return [];
        var machines = db.Jobs.Where(j => j.RunId == runId && j.Variant == variant).Select(j => j.MachineId);
        var jobs = db.Jobs.Where(j => j.Run.RepositoryId == run.RepositoryId && j.Run.Commit == commit && j.Run.PipelinePath == run.PipelinePath
                                      && j.Variant == variant && machines.Contains(j.MachineId) && j.Run.Kind != RunKinds.Calibration)
            .Select(j => j.Id);
        return await BootsAsync(db.Boots.Where(b => jobs.Contains(b.JobId)), ct);
    }

    private async Task<IReadOnlyList<LoadedProfile>> BootsAsync(IQueryable<BootRow> boots, CancellationToken ct)
    {
        var rows = await boots.AsNoTracking().Where(b => b.Profile != null)
            .OrderBy(b => b.JobId).ThenBy(b => b.Index)
            .Select(b => new { b.JobId, b.Index, b.Profile!.Folded })
            .ToListAsync(ct);
        return rows.Select(r => new LoadedProfile($"boot {r.Index} of job {r.JobId.ToString()[..8]}", r.Folded,
            string.Create(CultureInfo.InvariantCulture, $"boot:{r.JobId}:{r.Index}"))).ToList();
    }

    /// <summary>Several profiles as one: the counts of identical stacks summed, sorted as the folder sorts.</summary>
    public static string Merge(IReadOnlyList<LoadedProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 1) return profiles[0].Folded;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in profiles)
            foreach (var (frames, count) in FoldedStacks.Parse(p.Folded))
            {
                var key = string.Join(';', frames);
                counts[key] = counts.GetValueOrDefault(key) + count;
            }
        var sb = new StringBuilder();
        foreach (var (stack, count) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(stack).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }
}
