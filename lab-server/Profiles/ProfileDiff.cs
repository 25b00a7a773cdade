using System.Text.Json.Serialization;
using Perfolizer.Mathematics.SignificanceTesting.Base;
using Perfolizer.Mathematics.SignificanceTesting.MannWhitney;
using Perfolizer.Metrology;
using Pragmastat;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// A frame of a differential flamegraph. Shares are of all samples of a side (each profile normalised by its own
/// total, then averaged over the side's profiles): <c>b</c> base, <c>h</c> head; <c>bs</c>/<c>hs</c> the same as the
/// leaf; <c>w</c> the drawing width: the larger side, widened to hold its callees, so frames that vanished on one
/// side stay visible.
/// </summary>
public sealed class DiffNode
{
    [JsonPropertyName("n")] public string Name { get; init; } = "";
    [JsonPropertyName("b")] public double Base { get; set; }
    [JsonPropertyName("h")] public double Head { get; set; }
    [JsonPropertyName("bs")] public double BaseSelf { get; set; }
    [JsonPropertyName("hs")] public double HeadSelf { get; set; }
    [JsonPropertyName("w")] public double Width { get; set; }
    [JsonPropertyName("c")] public List<DiffNode> Children { get; set; } = [];

    [JsonIgnore] private Dictionary<string, DiffNode>? _byName;

    internal DiffNode Child(string name)
    {
        _byName ??= [];
        if (!_byName.TryGetValue(name, out var child))
        {
            child = new DiffNode { Name = name };
            _byName[name] = child;
            Children.Add(child);
        }
        return child;
    }

    internal double Layout()
    {
        Children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var sum = 0.0;
        foreach (var c in Children) sum += c.Layout();
        Width = Math.Max(Math.Max(Base, Head), sum);
        return Width;
    }
}

/// <summary>
/// One function's change between the sides. Self: share of samples with it as the leaf; total: share of samples
/// with it anywhere on the stack (once per sample however often it recurs). With at least two profiles per side,
/// <see cref="P"/> is the two-sided Mann-Whitney p-value over the profiles' total shares (each boot's share is one
/// observation, so boot-to-boot noise is the yardstick), <see cref="AdjustedP"/> that p after Holm's correction for the
/// number of functions tested, and <see cref="Shift"/> the Hodges-Lehmann estimate of head minus base total share.
/// </summary>
public sealed record FrameChange(
    string Name,
    double BaseSelf, double HeadSelf, double BaseTotal, double HeadTotal,
    double? P, double? AdjustedP, double? Shift, bool Significant,
    IReadOnlyList<double> BaseTotals, IReadOnlyList<double> HeadTotals)
{
    public double DeltaSelf => HeadSelf - BaseSelf;

    public double DeltaTotal => HeadTotal - BaseTotal;
}

/// <summary>A differential profile: the merged tree and the functions ordered by the size of their change.</summary>
public sealed record ProfileDiff(
    int BaseProfiles, int HeadProfiles, long BaseSamples, long HeadSamples,
    int FramesTested, double Alpha, string Method,
    DiffNode Root, IReadOnlyList<FrameChange> Frames);

/// <summary>Differential flamegraphs between two profiles or two groups of profiles (a candidate's boots against its baseline's).</summary>
public static class ProfileDiffs
{
    public const double DefaultAlpha = 0.05;

    public const string TestMethod = "Mann-Whitney U per function over per-profile total shares (Perfolizer), Holm-corrected for the functions tested; Hodges-Lehmann shift (Pragmastat)";

    /// <summary>
    /// Compares <paramref name="baseProfiles"/> with <paramref name="headProfiles"/> (folded stacks, the first frame of
    /// each stack the command, left out of the function table). <paramref name="top"/> limits the table; the correction
    /// counts every function.
    /// </summary>
    public static ProfileDiff Compare(IReadOnlyList<string> baseProfiles, IReadOnlyList<string> headProfiles, int top = 200, double alpha = DefaultAlpha)
    {
        ArgumentNullException.ThrowIfNull(baseProfiles);
        ArgumentNullException.ThrowIfNull(headProfiles);
        if (baseProfiles.Count == 0 || headProfiles.Count == 0) throw new ArgumentException("each side needs at least one profile");

        var root = new DiffNode { Name = "all" };
        var baseShares = baseProfiles.Select(p => Add(root, p, baseProfiles.Count, head: false)).ToList();
        var headShares = headProfiles.Select(p => Add(root, p, headProfiles.Count, head: true)).ToList();
        root.Base = baseShares.Any(s => s.Samples > 0) ? 1 : 0;
        root.Head = headShares.Any(s => s.Samples > 0) ? 1 : 0;
        root.Layout();

        var names = baseShares.Concat(headShares).SelectMany(s => s.Total.Keys).Distinct(StringComparer.Ordinal).ToList();
        var testable = baseProfiles.Count >= 2 && headProfiles.Count >= 2;
        var rows = new List<FrameChange>(names.Count);
        foreach (var name in names)
        {
            var bt = baseShares.Select(s => s.Total.GetValueOrDefault(name)).ToArray();
            var ht = headShares.Select(s => s.Total.GetValueOrDefault(name)).ToArray();
            var bs = baseShares.Average(s => s.Self.GetValueOrDefault(name));
            var hs = headShares.Average(s => s.Self.GetValueOrDefault(name));
            double? p = null, shift = null;
            if (testable)
            {
                p = AllEqual(bt, ht) ? 1.0 : MannWhitneyTest.Instance.Perform(new Sample(bt), new Sample(ht), AlternativeHypothesis.TwoSides, Threshold.Zero).PValue.Value;
                shift = Toolkit.Shift(new Sample(ht), new Sample(bt)).NominalValue;
            }
            rows.Add(new FrameChange(name, bs, hs, bt.Average(), ht.Average(), p, null, shift, false, bt, ht));
        }

        if (testable) rows = Holm(rows, alpha);
        var ordered = rows
            .OrderByDescending(r => Math.Abs(r.DeltaTotal))
            .ThenByDescending(r => Math.Abs(r.DeltaSelf))
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .Take(top)
            .ToList();
        return new ProfileDiff(baseProfiles.Count, headProfiles.Count, baseShares.Sum(s => s.Samples), headShares.Sum(s => s.Samples),
            testable ? rows.Count : 0, alpha, testable ? TestMethod : "none: fewer than two profiles on a side", root, ordered);
    }

    /// <summary>Holm's step-down: the i-th smallest p (1-based) times (m - i + 1), made monotone; significant below alpha.</summary>
    private static List<FrameChange> Holm(List<FrameChange> rows, double alpha)
    {
        var m = rows.Count;
        var byP = rows.Select((r, i) => (r, i)).OrderBy(x => x.r.P!.Value).ToList();
        var adjusted = new double[m];
        var running = 0.0;
        for (var k = 0; k < m; k++)
        {
            running = Math.Max(running, Math.Min(1, byP[k].r.P!.Value * (m - k)));
            adjusted[byP[k].i] = running;
        }
        return rows.Select((r, i) => r with { AdjustedP = adjusted[i], Significant = adjusted[i] < alpha }).ToList();
    }

    private static bool AllEqual(double[] a, double[] b)
    {
        var first = a[0];
        return a.All(v => v == first) && b.All(v => v == first);
    }

    private sealed record Shares(long Samples, Dictionary<string, double> Self, Dictionary<string, double> Total);

    /// <summary>Adds one profile to the tree (weighted 1/its total/the side's profile count) and returns its function shares.</summary>
    private static Shares Add(DiffNode root, string folded, int profilesOnSide, bool head)
    {
        var stacks = FoldedStacks.Parse(folded).Where(s => s.Count > 0).ToList();
        long samples = stacks.Sum(s => s.Count);
        var self = new Dictionary<string, double>(StringComparer.Ordinal);
        var total = new Dictionary<string, double>(StringComparer.Ordinal);
        if (samples == 0) return new Shares(0, self, total);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (frames, count) in stacks)
        {
            var share = (double)count / samples;
            var weight = share / profilesOnSide;
            var node = root;
            foreach (var frame in frames)
            {
                node = node.Child(frame);
                if (head) node.Head += weight;
                else node.Base += weight;
            }
            if (head) node.HeadSelf += weight;
            else node.BaseSelf += weight;

            if (frames.Length < 2) continue;
            self[frames[^1]] = self.GetValueOrDefault(frames[^1]) + share;
            seen.Clear();
            for (var i = 1; i < frames.Length; i++)
                if (seen.Add(frames[i])) total[frames[i]] = total.GetValueOrDefault(frames[i]) + share;
        }
        return new Shares(samples, self, total);
    }
}
