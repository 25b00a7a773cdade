using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Server.Artifacts;

/// <summary>An upload longer than the artifact limit.</summary>
public sealed class ArtifactTooLargeException(long max) : Exception($"an artifact may have at most {max} bytes")
{
    public long Max { get; } = max;
}

/// <summary>
/// Artifact contents on disk, content-addressed: <c>{Lab:DataDir}/artifacts/{sha[0..2]}/{sha256}</c>. An upload
/// streams into a temporary file in the same directory tree (hashing as it goes, never held in memory) and is
/// renamed into place, so a file at its final name is always complete. The database row (Artifacts/ArtifactStore)
/// names the file by its hash. Several servers of one lab must share <c>Lab:DataDir</c> (or this directory).
/// Files are never deleted here: two jobs may share one, and one replaced by a re-upload is left for a sweep.
/// </summary>
public sealed class ArtifactFiles(IOptions<LabOptions> options)
{
    public string Root => Path.Combine(Path.GetFullPath(options.Value.DataDir), "artifacts");

    /// <summary>Where the content with this hash lives (whether or not it is there).</summary>
    public string PathOf(string sha256) =>
        sha256.Length == 64 && sha256.All(char.IsAsciiHexDigitLower)
            ? Path.Combine(Root, sha256[..2], sha256)
            : throw new ArgumentException("not a lower-case hex SHA-256", nameof(sha256));

    /// <summary>Copies <paramref name="body"/> to disk; throws <see cref="ArtifactTooLargeException"/> past <paramref name="max"/> bytes (nothing is kept).</summary>
    public async Task<(string Sha256, long Size)> WriteAsync(Stream body, long max, CancellationToken ct)
    {
        var tmpDir = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(tmpDir);
        var tmp = Path.Combine(tmpDir, Guid.NewGuid().ToString("N"));
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
            var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
            var final = PathOf(sha);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            // Same content, same name: an existing file is already this content.
            File.Move(tmp, final, overwrite: true);
            return (sha, size);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>The whole content (for parsing an ELF); null when the file is missing.</summary>
    public async Task<byte[]?> ReadAllAsync(string sha256, CancellationToken ct)
    {
        var path = PathOf(sha256);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
    }
}
