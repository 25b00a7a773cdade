using Microsoft.AspNetCore.Http.HttpResults;

namespace Redox.Lab.Server.Profiles;

/// <summary>Reads a boot's profile as text: the perf-script the kernel printed, or its folded stacks.</summary>
public static class ProfilesApi
{
    public static void MapProfilesApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api").WithTags("Profiles")
            .MapGet("/jobs/{id:guid}/boots/{index:int}/profile", GetProfile).WithName("GetProfile");
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
}
