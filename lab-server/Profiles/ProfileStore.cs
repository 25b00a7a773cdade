using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// Keeps each boot's profile raw and folded. Folding is eager and repeated: a boot report folds its profile
/// with the job's kernel.elf when that is already stored (hex addresses otherwise), and storing a kernel.elf
/// folds all the job's profiles again from their raw text. Both run in a transaction holding the job's row
/// lock, so whichever of the two arrives second sees the other; folding the same raw text with the same ELF
/// gives the same result, so a repeated call changes nothing.
/// </summary>
public sealed class ProfileStore(LabDbContext db, KernelSymbols symbols)
{
    /// <summary>
    /// How the lab folds its kernels' profiles: frames the kernel printed as <c>[unknown] (dso)</c> are named from the
    /// job's <c>dso.elf</c> artifact (<c>kernel</c> from <c>kernel.elf</c>, <c>bootstrap</c> from <c>bootstrap.elf</c>, ...),
    /// unnamed ones keep their address (<c>[kernel &lt;100200&gt;]</c>), userspace frames are marked <c>_[u]</c>, and
    /// every event type is kept (the kernel prints one).
    /// </summary>
    public static PerfFoldOptions LabOptions { get; } = PerfFoldOptions.Default with
    {
        IncludeAddresses = true,
        AllEvents = true,
        IsUserDso = dso => dso != "kernel" && dso != "[unknown]" && !dso.StartsWith('[') && !dso.EndsWith("vmlinux", StringComparison.Ordinal),
    };

    /// <summary>The profile row for a boot's raw perf-script text; null for a boot without a profile.</summary>
    public async Task<ProfileRow?> FoldAsync(Guid jobId, string? raw, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var (resolve, symbolized) = await ResolverAsync(jobId, ct);
        var folded = PerfScriptFolder.Fold(raw, LabOptions, resolve);
        return new ProfileRow { Raw = raw, Folded = folded.Text, Samples = folded.Samples, Symbolized = symbolized };
    }

    /// <summary>Folds every profile of the job again (after one of its ELF artifacts changed). Call with the job's row locked.</summary>
    public async Task<int> RefoldJobAsync(Guid jobId, CancellationToken ct)
    {
        var bootIds = db.Boots.Where(b => b.JobId == jobId).Select(b => b.Id);
        var profiles = await db.Profiles.Where(p => bootIds.Contains(p.BootId)).ToListAsync(ct);
        if (profiles.Count == 0) return 0;
        var (resolve, symbolized) = await ResolverAsync(jobId, ct);
        foreach (var p in profiles)
        {
            var folded = PerfScriptFolder.Fold(p.Raw, LabOptions, resolve);
            p.Folded = folded.Text;
            p.Samples = folded.Samples;
            p.Symbolized = symbolized;
        }
        await db.SaveChangesAsync(ct);
        return profiles.Count;
    }

    /// <summary>Names frames per DSO from the job's ELF artifacts; symbolized when the kernel's ELF is readable.</summary>
    private async Task<(FrameResolver? Resolve, bool Symbolized)> ResolverAsync(Guid jobId, CancellationToken ct)
    {
        var byDso = new Dictionary<string, Symbolizer>(StringComparer.Ordinal);
        foreach (var name in await symbols.ElfNamesAsync(jobId, ct))
            if (await symbols.ForArtifactAsync(jobId, name, ct) is { } symbolizer)
                byDso[name[..^".elf".Length]] = symbolizer;
        if (byDso.Count == 0) return (null, false);
        return ((address, dso) => byDso.TryGetValue(dso, out var s) ? s.Lookup(address)?.Name : null, byDso.ContainsKey("kernel"));
    }

    /// <summary>A boot's profile by job and boot index; null when there is no such boot or it has no profile.</summary>
    public Task<ProfileRow?> GetAsync(Guid jobId, int index, CancellationToken ct) =>
        db.Boots.AsNoTracking()
            .Where(b => b.JobId == jobId && b.Index == index && b.Profile != null)
            .Select(b => b.Profile)
            .FirstOrDefaultAsync(ct);
}
