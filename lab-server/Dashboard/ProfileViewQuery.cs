using System.Text.Json;
using Redox.Lab.Dashboard.Pages.Profiles;
using Redox.Lab.Server.Profiles;

namespace Redox.Lab.Server.Dashboard;

/// <summary>The flamegraph pages' data: the same trees and differential the profile API returns.</summary>
public sealed class ProfileViewQuery(ProfileLibrary library) : IProfileViewQuery
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<FlameModel?> FlameAsync(string reference, CancellationToken ct)
    {
        var profiles = await library.LoadAsync(reference, ct);
        if (profiles.Count == 0) return null;
        var tree = FlameGraphs.Build(ProfileLibrary.Merge(profiles));
        return new FlameModel(reference, profiles.Count, tree.Total, JsonSerializer.Serialize(tree, Json));
    }

    public async Task<DiffModel?> DiffAsync(string baseReference, string headReference, CancellationToken ct)
    {
        var left = await library.LoadAsync(baseReference, ct);
        var right = await library.LoadAsync(headReference, ct);
        if (left.Count == 0 || right.Count == 0) return null;
        var diff = ProfileDiffs.Compare(left.Select(p => p.Folded).ToList(), right.Select(p => p.Folded).ToList(), top: 100);
        return new DiffModel(baseReference, headReference, diff.BaseProfiles, diff.HeadProfiles, diff.BaseSamples, diff.HeadSamples,
            diff.Method, diff.FramesTested, JsonSerializer.Serialize(diff.Root, Json),
            diff.Frames.Select(f => new DiffRow(f.Name, f.BaseSelf, f.HeadSelf, f.BaseTotal, f.HeadTotal, f.P, f.AdjustedP, f.Significant)).ToList());
    }
}
