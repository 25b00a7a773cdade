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
    /// <summary>The profile row for a boot's raw perf-script text; null for a boot without a profile.</summary>
    public async Task<ProfileRow?> FoldAsync(Guid jobId, string? raw, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(raw)) return null;
        var symbolizer = await symbols.ForJobAsync(jobId, ct);
        var folded = PerfScriptFolder.Fold(raw, symbolizer);
        return new ProfileRow { Raw = raw, Folded = folded.Text, Samples = folded.Samples, Symbolized = symbolizer is not null };
    }

    /// <summary>Folds every profile of the job again (after its kernel.elf changed). Call with the job's row locked.</summary>
    public async Task<int> RefoldJobAsync(Guid jobId, CancellationToken ct)
    {
        var bootIds = db.Boots.Where(b => b.JobId == jobId).Select(b => b.Id);
        var profiles = await db.Profiles.Where(p => bootIds.Contains(p.BootId)).ToListAsync(ct);
        if (profiles.Count == 0) return 0;
        var symbolizer = await symbols.ForJobAsync(jobId, ct);
        foreach (var p in profiles)
        {
            var folded = PerfScriptFolder.Fold(p.Raw, symbolizer);
            p.Folded = folded.Text;
            p.Samples = folded.Samples;
            p.Symbolized = symbolizer is not null;
        }
        await db.SaveChangesAsync(ct);
        return profiles.Count;
    }

    /// <summary>A boot's profile by job and boot index; null when there is no such boot or it has no profile.</summary>
    public Task<ProfileRow?> GetAsync(Guid jobId, int index, CancellationToken ct) =>
        db.Boots.AsNoTracking()
            .Where(b => b.JobId == jobId && b.Index == index && b.Profile != null)
            .Select(b => b.Profile)
            .FirstOrDefaultAsync(ct);
}
