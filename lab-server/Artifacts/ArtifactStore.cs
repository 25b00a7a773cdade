using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Artifacts;

/// <summary>Build artifacts per job (e.g. kernel.elf for symbolizing findings and profiles): rows here, contents on disk (<see cref="ArtifactFiles"/>).</summary>
public sealed class ArtifactStore(LabDbContext db, ProfileStore profiles, ArtifactFiles files, TimeProvider clock)
{
    /// <summary>The default largest artifact (<c>Lab:Limits:ArtifactBytes</c>): 64 MiB.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Streams the upload to disk and stores (or replaces) the job's artifact <paramref name="name"/>. Only the agent
    /// holding the job, while it runs. Storing an ELF folds the job's profiles again, in the same transaction, under
    /// the job's row lock (see <see cref="ProfileStore"/>). A kernel.elf that cannot give symbols is refused
    /// (<c>Refused</c> says why) and no row is stored. Throws <see cref="ArtifactTooLargeException"/> past <paramref name="max"/>.
    /// </summary>
    public async Task<(JobCallStatus Status, ArtifactInfo? Info, string? Refused)> PutAsync(
        Guid agentId, Guid jobId, string name, Stream body, long max, CancellationToken ct)
    {
        // Checked before the body is read, so nobody else's job gets a byte on disk; again under the lock below.
        var before = await CheckAsync(agentId, jobId, ct);
        if (before != JobCallStatus.Ok) return (before, null, null);

        using var staged = await files.StageAsync(body, max, ct);
        var (sha, size) = (staged.Sha256, staged.Size);
        if (name == KernelSymbols.ArtifactName && KernelSymbols.Unusable(await File.ReadAllBytesAsync(staged.Path, ct)) is { } unusable)
            return (JobCallStatus.Ok, null, unusable);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var job = await db.LockJobAsync(jobId, ct);
        if (job is null) return (JobCallStatus.NotFound, null, null);
        if (job.AgentId != agentId) return (JobCallStatus.NotYours, null, null);
        if (job.State != JobStates.Running && job.Outcome != Outcome.AgentLost) return (JobCallStatus.Ended, null, null);

        // The file goes into place and its row is stored under the placement lock (shared), so the sweep, which
        // deletes files no row names holding it exclusively, cannot delete this one in between (ArtifactFiles).
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock_shared({ArtifactFiles.PlacementLock})", ct);
        files.Place(staged);

        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO artifacts (job_id, name, size, sha256, content, created_at)
            VALUES ({jobId}, {name}, {size}, {sha}, NULL, {now})
            ON CONFLICT (job_id, name) DO UPDATE
            SET size = excluded.size, sha256 = excluded.sha256, content = NULL, created_at = excluded.created_at
            """, ct);
        // Any ELF names profile frames (kernel.elf the kernel's, bootstrap.elf bootstrap's): fold again.
        if (name.EndsWith(".elf", StringComparison.Ordinal)) await profiles.RefoldJobAsync(jobId, ct);
        await tx.CommitAsync(ct);
        return (JobCallStatus.Ok, new ArtifactInfo(name, size, sha, now), null);
    }

    private async Task<JobCallStatus> CheckAsync(Guid agentId, Guid jobId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.AgentId, j.State, j.Outcome }).FirstOrDefaultAsync(ct);
        if (job is null) return JobCallStatus.NotFound;
        if (job.AgentId != agentId) return JobCallStatus.NotYours;
        // After agent-lost the holder may still deliver what it spooled through an outage (Jobs/LateResults).
        return job.State == JobStates.Running || job.Outcome == Outcome.AgentLost ? JobCallStatus.Ok : JobCallStatus.Ended;
    }

    /// <summary>The artifact without its content; null when the job has none of that name.</summary>
    public Task<ArtifactMeta?> GetAsync(Guid jobId, string name, CancellationToken ct) =>
        db.Artifacts.AsNoTracking().Where(a => a.JobId == jobId && a.Name == name)
            .Select(a => new ArtifactMeta(a.Name, a.Size, a.Sha256, a.CreatedAt, a.Content == null))
            .FirstOrDefaultAsync(ct);

    /// <summary>The content of an artifact stored in the database before artifacts moved to disk.</summary>
    public Task<byte[]?> LegacyContentAsync(Guid jobId, string name, CancellationToken ct) =>
        db.Artifacts.AsNoTracking().Where(a => a.JobId == jobId && a.Name == name).Select(a => a.Content).FirstOrDefaultAsync(ct);

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

/// <summary>An artifact's row without its content; <c>OnDisk</c>: the content is the file named by the hash.</summary>
public sealed record ArtifactMeta(string Name, long Size, string Sha256, DateTimeOffset CreatedAt, bool OnDisk);
