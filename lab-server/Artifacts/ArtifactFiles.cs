using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Server.Artifacts;

/// <summary>An upload longer than the artifact limit.</summary>
public sealed class ArtifactTooLargeException(long max) : Exception($"an artifact may have at most {max} bytes")
{
    public long Max { get; } = max;
}

/// <summary>An upload on disk under its temporary name, hashed, not yet in place (<see cref="ArtifactFiles.Place"/>); disposing deletes what was not placed.</summary>
public sealed class StagedArtifact(string path, string sha256, long size) : IDisposable
{
    public string Path { get; } = path;
    public string Sha256 { get; } = sha256;
    public long Size { get; } = size;

    public void Dispose()
    {
        if (File.Exists(Path)) File.Delete(Path);
    }
}

/// <summary>
/// Artifact contents on disk, content-addressed: <c>{Lab:DataDir}/artifacts/{sha[0..2]}/{sha256}</c>. An upload
/// streams into a temporary file in the same directory tree (hashing as it goes, never held in memory) and is
/// renamed into place, so a file at its final name is always complete. The database row (Artifacts/ArtifactStore)
/// names the file by its hash. Several servers of one lab must share <c>Lab:DataDir</c> (or this directory).
/// Several rows (jobs) may name one file. A file is deleted only by <see cref="ArtifactSweep"/>, once no row names
/// it; the upload renames its file into place and stores its row in one transaction holding
/// <see cref="PlacementLock"/> shared, and the sweep decides and deletes holding it exclusively, so it never deletes
/// a file an upload is storing a row for.
/// </summary>
public sealed class ArtifactFiles(IOptions<LabOptions> options)
{
    /// <summary>The PostgreSQL advisory lock key (one 64-bit number; "artifact" in ASCII) placing and sweeping files take.</summary>
    public const long PlacementLock = 0x61727469666163;

    public string Root => Path.Combine(Path.GetFullPath(options.Value.DataDir), "artifacts");

    public string TmpDir => Path.Combine(Root, "tmp");

    /// <summary>Where the content with this hash lives (whether or not it is there).</summary>
    public string PathOf(string sha256) =>
        IsHash(sha256)
            ? Path.Combine(Root, sha256[..2], sha256)
            : throw new ArgumentException("not a lower-case hex SHA-256", nameof(sha256));

    public static bool IsHash(string name) => name.Length == 64 && name.All(char.IsAsciiHexDigitLower);

    /// <summary>Copies <paramref name="body"/> to a temporary file; throws <see cref="ArtifactTooLargeException"/> past <paramref name="max"/> bytes (nothing is kept).</summary>
    public async Task<StagedArtifact> StageAsync(Stream body, long max, CancellationToken ct)
    {
        Directory.CreateDirectory(TmpDir);
        var tmp = Path.Combine(TmpDir, Guid.NewGuid().ToString("N"));
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > max) throw new ArtifactTooLargeException(max);
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            return new StagedArtifact(tmp, Convert.ToHexStringLower(hash.GetHashAndReset()), size);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    /// <summary>Renames the staged file to its final name. Call holding <see cref="PlacementLock"/> shared, in the transaction that stores its row.</summary>
    public void Place(StagedArtifact staged)
    {
        var final = PathOf(staged.Sha256);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(final)!);
        // Same content, same name: an existing file is already this content.
        File.Move(staged.Path, final, overwrite: true);
    }

    /// <summary>The whole content (for parsing an ELF); null when the file is missing.</summary>
    public async Task<byte[]?> ReadAllAsync(string sha256, CancellationToken ct)
    {
        var path = PathOf(sha256);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
    }
}
