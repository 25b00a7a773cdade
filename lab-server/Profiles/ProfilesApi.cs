using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// Profiles: a boot's raw and folded text; any profile or group (see <see cref="ProfileLibrary"/> for references) as
/// a flamegraph tree, folded text or speedscope file; differences between two profiles or groups; uploads of profiles
/// recorded elsewhere. Formats: PERF-SCRIPT.md and FLAMEGRAPH.md beside this file.
/// </summary>
public static class ProfilesApi
{
    /// <summary>Uploaded perf-script is folded while it streams in; larger bodies are refused.</summary>
    public const long MaxPerfScriptUpload = 2L * 1024 * 1024 * 1024;

    /// <summary>Folded uploads are read whole.</summary>
    public const long MaxFoldedUpload = 64L * 1024 * 1024;

    public static void MapProfilesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Profiles");
        api.MapGet("/jobs/{id:guid}/boots/{index:int}/profile", GetProfile).WithName("GetProfile");
        api.MapGet("/profiles/flamegraph", GetFlameGraph).WithName("GetFlameGraph");
        api.MapGet("/profiles/folded", GetFolded).WithName("GetFolded");
        api.MapGet("/profiles/speedscope", GetSpeedscope).WithName("GetSpeedscope");
        api.MapGet("/profiles/diff", GetDiff).WithName("GetProfileDiff");
        api.MapGet("/runs/{id:guid}/profiles", ListImports).WithName("ListImportedProfiles");
        api.MapPost("/runs/{id:guid}/profiles", Import).WithName("ImportProfile").RequireAuthorization(Identity.Policies.Developer);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetProfile(
        Guid id, int index, ProfileStore profiles, CancellationToken ct, string format = "folded")
    {
        if (format is not ("folded" or "raw"))
            return TypedResults.Problem(statusCode: 400, title: "Invalid format", detail: "format must be folded or raw");
        var profile = await profiles.GetAsync(id, index, ct);
        if (profile is null)
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"job {id} has no boot {index} with a profile");
        return TypedResults.Text(format == "raw" ? profile.Raw : profile.Folded, "text/plain; charset=utf-8");
    }

    private static async Task<(IReadOnlyList<LoadedProfile>? Profiles, ProblemHttpResult? Problem)> LoadAsync(
        ProfileLibrary library, string? reference, string parameter, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(reference))
            return (null, TypedResults.Problem(statusCode: 400, title: "Missing profile", detail: $"{parameter} is required (boot:JOB:INDEX, job:JOB, run:RUN:VARIANT, candidate:RUN:VARIANT, baseline:RUN:VARIANT or import:ID; several separated by commas for a group)"));
        try
        {
            var profiles = await library.LoadAsync(reference, ct);
            return profiles.Count == 0
                ? (null, TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"{reference} names no profile"))
                : (profiles, null);
        }
        catch (FormatException ex)
        {
            return (null, TypedResults.Problem(statusCode: 400, title: "Invalid profile reference", detail: ex.Message));
        }
        catch (KeyNotFoundException ex)
        {
            return (null, TypedResults.Problem(statusCode: 404, title: "Not found", detail: ex.Message));
        }
    }

    /// <summary>The flamegraph tree (FLAMEGRAPH.md); a group's profiles are summed.</summary>
    public static async Task<Results<Ok<FlameNode>, ProblemHttpResult>> GetFlameGraph(string? profile, ProfileLibrary library, CancellationToken ct)
    {
        var (profiles, problem) = await LoadAsync(library, profile, "profile", ct);
        if (problem is not null) return problem;
        return TypedResults.Ok(FlameGraphs.Build(ProfileLibrary.Merge(profiles!)));
    }

    /// <summary>Folded stacks; <c>download=true</c> as an attachment.</summary>
    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetFolded(
        string? profile, ProfileLibrary library, HttpResponse response, CancellationToken ct, bool download = false)
    {
        var (profiles, problem) = await LoadAsync(library, profile, "profile", ct);
        if (problem is not null) return problem;
        if (download) response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(profile!)}.folded\"";
        return TypedResults.Text(ProfileLibrary.Merge(profiles!), "text/plain; charset=utf-8");
    }

    /// <summary>A speedscope file, as an attachment.</summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetSpeedscope(string? profile, ProfileLibrary library, CancellationToken ct)
    {
        var (profiles, problem) = await LoadAsync(library, profile, "profile", ct);
        if (problem is not null) return problem;
        var name = profiles!.Count == 1 ? profiles[0].Label : $"{profile} ({profiles.Count} profiles)";
        return TypedResults.File(Speedscope.ToBytes(ProfileLibrary.Merge(profiles), name), "application/json", FileName(profile!) + ".speedscope.json");
    }

    /// <summary>Base against head (each a profile or a group); <c>top</c> rows of the function table.</summary>
    public static async Task<Results<Ok<ProfileDiff>, ProblemHttpResult>> GetDiff(
        string? @base, string? head, ProfileLibrary library, CancellationToken ct, int top = 200)
    {
        if (top is < 1 or > 10_000)
            return TypedResults.Problem(statusCode: 400, title: "Invalid top", detail: "top must be between 1 and 10000");
        var (baseProfiles, problem) = await LoadAsync(library, @base, "base", ct);
        if (problem is not null) return problem;
        var (headProfiles, headProblem) = await LoadAsync(library, head, "head", ct);
        if (headProblem is not null) return headProblem;
        return TypedResults.Ok(ProfileDiffs.Compare(baseProfiles!.Select(p => p.Folded).ToList(), headProfiles!.Select(p => p.Folded).ToList(), top));
    }

    public static async Task<Results<Ok<List<ImportedProfileView>>, ProblemHttpResult>> ListImports(Guid id, LabDbContext db, CancellationToken ct)
    {
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no run {id}");
        var rows = await db.Set<ImportedProfileRow>().AsNoTracking().Where(p => p.RunId == id).OrderBy(p => p.CreatedAt)
            .Select(p => new { p.Id, p.Name, p.Format, p.Samples, p.Stacks, p.CreatedAt }).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(p => new ImportedProfileView(p.Id, id, p.Name, p.Format, p.Samples, p.Stacks, 0, null, p.CreatedAt, $"import:{p.Id}")).ToList());
    }

    /// <summary>
    /// Uploads a profile to a run: <c>format=folded</c> (stack count lines) or <c>perf-script</c> (folded as it streams
    /// in, with the folder's options: <c>pid</c>, <c>tid</c>, <c>addrs</c>, <c>kernel</c>, <c>jit</c>, <c>event</c>,
    /// <c>allEvents</c>).
    /// </summary>
    public static async Task<Results<Created<ImportedProfileView>, ProblemHttpResult>> Import(
        Guid id, string? name, string? format, HttpRequest request, LabDbContext db, TimeProvider clock, CancellationToken ct,
        bool pid = false, bool tid = false, bool addrs = false, bool kernel = false, bool jit = false, string? @event = null, bool allEvents = false)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            return TypedResults.Problem(statusCode: 400, title: "Invalid name", detail: "name is required, at most 200 characters");
        if (format is not ("folded" or "perf-script"))
            return TypedResults.Problem(statusCode: 400, title: "Invalid format", detail: "format must be folded or perf-script");
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no run {id}");

        var limit = format == "folded" ? MaxFoldedUpload : MaxPerfScriptUpload;
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit;
        if (request.ContentLength > limit)
            return TypedResults.Problem(statusCode: 413, title: "Too large", detail: $"a {format} upload may have at most {limit} bytes");

        string folded;
        long samples, skipped;
        int stacks;
        string? eventName = null;
        try
        {
            if (format == "folded")
            {
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                var text = await ReadLimitedAsync(reader, limit, ct);
                folded = FoldedImport.Normalise(text, out samples, out stacks, out skipped);
            }
            else
            {
                var options = PerfFoldOptions.Default with
                {
                    IncludePid = pid, IncludeTid = tid, IncludeAddresses = addrs, AnnotateKernel = kernel, AnnotateJit = jit,
                    EventFilter = @event, AllEvents = allEvents,
                };
                // The folder reads synchronously: it runs on a pool thread over a buffered copy of the body stream.
                var folder = new PerfScriptFolder(options);
                await using var body = new BufferedReadStream(request.Body);
                await Task.Run(() => folder.Read(body), ct);
                var result = folder.Finish();
                (folded, samples, stacks, skipped, eventName) = (result.Text, result.Samples, result.Stacks, result.UnrecognizedLines, result.Event);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TypedResults.Problem(statusCode: 413, title: "Too large", detail: $"a {format} upload may have at most {limit} bytes");
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid upload", detail: ex.Message);
        }
        if (stacks == 0)
            return TypedResults.Problem(statusCode: 400, title: "No stacks", detail: $"the {format} upload holds no samples ({skipped} lines not understood)");

        var row = new ImportedProfileRow
        {
            Id = Guid.CreateVersion7(), RunId = id, Name = name.Trim(), Format = format, Folded = folded,
            Samples = samples, Stacks = stacks, CreatedAt = clock.GetUtcNow(),
        };
        db.Add(row);
        await db.SaveChangesAsync(ct);
        var view = new ImportedProfileView(row.Id, id, row.Name, format, samples, stacks, skipped, eventName, row.CreatedAt, $"import:{row.Id}");
        return TypedResults.Created($"/api/profiles/folded?profile=import:{row.Id}", view);
    }

    private static async Task<string> ReadLimitedAsync(StreamReader reader, long limit, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var buffer = new char[81920];
        int n;
        while ((n = await reader.ReadAsync(buffer, ct)) > 0)
        {
            sb.Append(buffer, 0, n);
            if (sb.Length > limit) throw new InvalidDataException($"more than {limit} characters");
        }
        return sb.ToString();
    }

    /// <summary>A download's file name: the reference with every other character a dash; a group's cut to its first references.</summary>
    private static string FileName(string reference)
    {
        var name = string.Concat(reference.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
        return name.Length <= 120 ? name : string.Concat(name.AsSpan(0, 120), "-group");
    }

    /// <summary>Lets the synchronous folder read a request body (Kestrel forbids synchronous reads): each read waits on an async one.</summary>
    private sealed class BufferedReadStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
