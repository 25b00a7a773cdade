using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Symbols;

/// <summary>
/// Parsed kernel ELFs, shared by all requests and keyed by the artifact's SHA-256 (so a replaced ELF is
/// parsed again and the same ELF uploaded for several jobs is parsed once). A private cache with its own
/// size limit: an entry's size is the ELF's size, as the symbolizer keeps the bytes to decode instructions.
/// </summary>
public sealed class SymbolizerCache : IDisposable
{
    /// <summary>At most this many bytes of ELF stay parsed.</summary>
    public const long SizeLimit = 256L * 1024 * 1024;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = SizeLimit });

    /// <summary>The cached symbolizer for <paramref name="sha256"/>; false when not cached (a malformed ELF caches as null).</summary>
    public bool TryGet(string sha256, out Symbolizer? symbolizer) => _cache.TryGetValue(sha256, out symbolizer);

    public void Set(string sha256, Symbolizer? symbolizer, long size) =>
        _cache.Set(sha256, symbolizer, new MemoryCacheEntryOptions
        {
            Size = Math.Max(size, 1),
            SlidingExpiration = TimeSpan.FromMinutes(30),
        });

    public void Dispose() => _cache.Dispose();
}

/// <summary>The symbolizer for a job's <c>kernel.elf</c> artifact, parsed once per ELF (see <see cref="SymbolizerCache"/>).</summary>
public sealed class KernelSymbols(LabDbContext db, SymbolizerCache cache, ILogger<KernelSymbols> log)
{
    /// <summary>The artifact name findings and profiles are symbolized from.</summary>
    public const string ArtifactName = "kernel.elf";

    /// <summary>Null when the job has no kernel.elf or it is not a readable ELF (logged once per upload).</summary>
    public async Task<Symbolizer?> ForJobAsync(Guid jobId, CancellationToken ct)
    {
        var sha = await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == jobId && a.Name == ArtifactName)
            .Select(a => a.Sha256)
            .FirstOrDefaultAsync(ct);
        if (sha is null) return null;
        if (cache.TryGet(sha, out var cached)) return cached;

        // Selected by hash too: an upload replacing the ELF between the two queries must not be cached under the old hash.
        var content = await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == jobId && a.Name == ArtifactName && a.Sha256 == sha)
            .Select(a => a.Content)
            .FirstOrDefaultAsync(ct);
        if (content is null) return null;

        Symbolizer? symbolizer = null;
        try
        {
            symbolizer = new Symbolizer(ElfFile.Parse(content));
        }
        catch (ElfFormatException ex)
        {
            log.LogWarning("Job {JobId}: {Artifact} ({Sha256}) is not a readable ELF: {Reason}", jobId, ArtifactName, sha, ex.Message);
        }
        cache.Set(sha, symbolizer, content.Length);
        return symbolizer;
    }
}
