using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Artifacts;

/// <summary>Build artifacts per job (e.g. kernel.elf for symbolizing findings and profiles).</summary>
public sealed class ArtifactStore(LabDbContext db, ProfileStore profiles, TimeProvider clock)
{
    /// <summary>The largest artifact accepted: 64 MiB.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Stores (or replaces) the job's artifact <paramref name="name"/>. Storing the kernel.elf folds the job's
    /// profiles again, in the same transaction, under the job's row lock (see <see cref="ProfileStore"/>).
    /// A kernel.elf that cannot give symbols is refused (<c>Refused</c> says why) and nothing is stored.
    /// </summary>
    public async Task<(JobCallStatus Status, ArtifactInfo? Info, string? Refused)> PutAsync(Guid agentId, Guid jobId, string name, byte[] content, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var job = await db.LockJobAsync(jobId, ct);
        if (job is null) return (JobCallStatus.NotFound, null, null);
        if (job.AgentId != agentId) return (JobCallStatus.NotYours, null, null);
        if (name == KernelSymbols.ArtifactName && KernelSymbols.Unusable(content) is { } unusable) return (JobCallStatus.Ok, null, unusable);

        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO artifacts (job_id, name, size, sha256, content, created_at)
            VALUES ({jobId}, {name}, {(long)content.Length}, {sha}, {content}, {now})
            ON CONFLICT (job_id, name) DO UPDATE
            SET size = excluded.size, sha256 = excluded.sha256, content = excluded.content, created_at = excluded.created_at
            """, ct);
        // Any ELF names profile frames (kernel.elf the kernel's, bootstrap.elf bootstrap's): fold again.
        if (name.EndsWith(".elf", StringComparison.Ordinal)) await profiles.RefoldJobAsync(jobId, ct);
        await tx.CommitAsync(ct);
        return (JobCallStatus.Ok, new ArtifactInfo(name, content.Length, sha, now), null);
    }

    /// <summary>The artifact with its content; null when the job has none of that name.</summary>
    public Task<ArtifactRow?> GetAsync(Guid jobId, string name, CancellationToken ct) =>
        db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.JobId == jobId && a.Name == name, ct);

    /// <summary>The job's artifacts by name; null when there is no such job.</summary>
    public async Task<IReadOnlyList<ArtifactInfo>?> ListAsync(Guid jobId, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId, ct)) return null;
        return await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == jobId)
            .OrderBy(a => a.Name)
            .Select(a => new ArtifactInfo(a.Name, a.Size, a.Sha256, a.CreatedAt))
            .ToListAsync(ct);
    }
}
