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
public sealed class KernelSymbols(LabDbContext db, SymbolizerCache cache, Artifacts.ArtifactFiles files, ILogger<KernelSymbols> log)
{
    /// <summary>The artifact name findings and profiles are symbolized from.</summary>
    public const string ArtifactName = "kernel.elf";

    /// <summary>
    /// Why <paramref name="content"/> cannot give symbols, or null when it can: it must be an ELF32 or ELF64
    /// x86 file with code symbols in its <c>.symtab</c>. Checked at upload so the run says so at once,
    /// instead of every finding silently staying unsymbolized.
    /// </summary>
    public static string? Unusable(byte[] content)
    {
        ElfFile elf;
        try
        {
            elf = ElfFile.Parse(content);
        }
        catch (ElfFormatException e)
        {
            return $"{ArtifactName} is not a readable ELF file: {e.Message}";
        }

        if (!elf.IsX86_64 && !elf.IsI386)
            return $"{ArtifactName} is an ELF{(elf.Is64 ? 64 : 32)} file for machine {elf.Machine}, not x86 (3) or x86-64 (62)";
        return new Symbolizer(elf).Count == 0
            ? $"{ArtifactName} has no code symbols (a stripped image? give the unstripped ELF as build.artifacts.elf)"
            : null;
    }

    /// <summary>Null when the job has no kernel.elf or it is not a readable ELF (logged once per upload).</summary>
    public Task<Symbolizer?> ForJobAsync(Guid jobId, CancellationToken ct) => ForArtifactAsync(jobId, ArtifactName, ct);

    /// <summary>The names of the job's ELF artifacts (<c>*.elf</c>): the kernel's and its programs' symbol files.</summary>
    public Task<List<string>> ElfNamesAsync(Guid jobId, CancellationToken ct) =>
        db.Artifacts.AsNoTracking().Where(a => a.JobId == jobId && a.Name.EndsWith(".elf")).Select(a => a.Name).ToListAsync(ct);

    /// <summary>The symbolizer of the job's ELF artifact <paramref name="name"/>; null when missing or unreadable.</summary>
    public async Task<Symbolizer?> ForArtifactAsync(Guid jobId, string name, CancellationToken ct)
    {
        var sha = await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == jobId && a.Name == name)
            .Select(a => a.Sha256)
            .FirstOrDefaultAsync(ct);
        if (sha is null) return null;
        if (cache.TryGet(sha, out var cached)) return cached;

        // Selected by hash too: an upload replacing the ELF between the two queries must not be cached under the old hash.
        // On disk by hash (Artifacts/ArtifactFiles); in the row only when stored before artifacts moved to disk.
        var content = await db.Artifacts.AsNoTracking()
            .Where(a => a.JobId == jobId && a.Name == name && a.Sha256 == sha)
            .Select(a => a.Content)
            .FirstOrDefaultAsync(ct)
            ?? await files.ReadAllAsync(sha, ct);
        if (content is null) return null;

        Symbolizer? symbolizer = null;
        try
        {
            symbolizer = new Symbolizer(ElfFile.Parse(content));
        }
        catch (ElfFormatException ex)
        {
            log.LogWarning("Job {JobId}: {Artifact} ({Sha256}) is not a readable ELF: {Reason}", jobId, name, sha, ex.Message);
        }
        cache.Set(sha, symbolizer, content.Length);
        return symbolizer;
    }
}
