using System.Globalization;
using System.Text;
using Redox.Lab.Server.Profiles;

namespace Redox.Lab.Server.Tests.Profiles;

public sealed class ProfileDiffTests
{
    /// <summary>A profile of 1000 samples: <paramref name="a"/> in kmain;alloc, <paramref name="b"/> in kmain;walk, the rest in kmain.</summary>
    private static string Profile(int a, int b) =>
        string.Create(CultureInfo.InvariantCulture, $"kernel;kmain {1000 - a - b}\nkernel;kmain;alloc {a}\nkernel;kmain;walk {b}\n");

    [Fact]
    public void Compare_OneProfileEachSide_SharesAndWidthsFromTheLargerSide()
    {
        var diff = ProfileDiffs.Compare([Profile(358, 0)], ["kernel;kmain 500\nkernel;kmain;zero 500\n"]);

        var kmain = diff.Root.Children.Single().Children.Single();
        var alloc = kmain.Children.Single(c => c.Name == "alloc");
        var zero = kmain.Children.Single(c => c.Name == "zero");
        Assert.Equal(0.358, alloc.Base, 9);
        Assert.Equal(0, alloc.Head);
        Assert.Equal(0.358, alloc.Width, 9);     // vanished on the head side, still drawn
        Assert.Equal(0.5, zero.Width, 9);
        Assert.Equal(1, kmain.Width, 9);
        Assert.Equal("none: fewer than two profiles on a side", diff.Method);
        Assert.All(diff.Frames, f => Assert.Null(f.P));
        Assert.Equal(["zero", "alloc", "kmain"], diff.Frames.Select(f => f.Name)); // by the size of the change
        Assert.Equal(-0.358, diff.Frames[1].DeltaTotal, 9);
        Assert.Equal(-0.358, diff.Frames[1].DeltaSelf, 9);
    }

    [Fact]
    public void Compare_CalleesWiderThanTheirCaller_CallerWidened()
    {
        // a: half the samples on both sides, but alloc (base) and zero (head) each take that half: drawn side by side.
        var diff = ProfileDiffs.Compare(["kernel;a;alloc 500\nkernel;b 500\n"], ["kernel;a;zero 500\nkernel;b 500\n"]);

        var a = diff.Root.Children.Single().Children.Single(c => c.Name == "a");
        Assert.Equal(0.5, a.Base, 9);
        Assert.Equal(0.5, a.Head, 9);
        Assert.Equal(1.0, a.Width, 9);
        Assert.Equal(1.5, diff.Root.Width, 9);
    }

    [Fact]
    public void Compare_SixBootsEachSide_ShiftBeyondNoiseSignificantNoiseAloneNot()
    {
        var random = new Random(7);
        // alloc: 30% +-2% against 10% +-2%; walk: 20% +-2% on both sides (noise only).
        var baseSide = Enumerable.Range(0, 6).Select(_ => Profile(300 + random.Next(-20, 21), 200 + random.Next(-20, 21))).ToList();
        var headSide = Enumerable.Range(0, 6).Select(_ => Profile(100 + random.Next(-20, 21), 200 + random.Next(-20, 21))).ToList();

        var diff = ProfileDiffs.Compare(baseSide, headSide);

        var alloc = diff.Frames.Single(f => f.Name == "alloc");
        var walk = diff.Frames.Single(f => f.Name == "walk");
        Assert.Equal(3, diff.FramesTested); // kmain, alloc, walk
        Assert.True(alloc.Significant, $"adjusted p {alloc.AdjustedP}");
        Assert.True(alloc.AdjustedP >= alloc.P);
        Assert.True(alloc.Shift < -0.15);
        Assert.False(walk.Significant, $"adjusted p {walk.AdjustedP}");
    }

    [Fact]
    public void Compare_TwoBootsEachSide_NeverSignificant()
    {
        // With 2 + 2 observations the smallest two-sided Mann-Whitney p is 1/3: no claim can be made.
        var diff = ProfileDiffs.Compare([Profile(500, 0), Profile(510, 0)], [Profile(10, 0), Profile(12, 0)]);

        Assert.All(diff.Frames, f => Assert.False(f.Significant));
        Assert.True(diff.Frames.Single(f => f.Name == "alloc").P >= 1.0 / 3 - 1e-9);
    }

    [Fact]
    public void Compare_RedoxReferenceProfiles_AllocatorIsTheLargestChange()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Profiles", "Reference");
        var diff = ProfileDiffs.Compare([File.ReadAllText(Path.Combine(dir, "redox-boot-before.folded"))], [File.ReadAllText(Path.Combine(dir, "redox-boot-after.folded"))]);

        Assert.Equal(ProfileViewsApiTests.BuddyAllocate, diff.Frames[0].Name);
        Assert.Equal(0.358, Math.Round(diff.Frames[0].BaseTotal, 3));
        Assert.Equal(0, diff.Frames[0].HeadTotal);
        Assert.Equal(6450, diff.BaseSamples);
        Assert.Equal(6316, diff.HeadSamples);
    }

    [Fact]
    public void Speedscope_FoldedStacks_FramesSharedWeightsSumToSamples()
    {
        var bytes = Speedscope.ToBytes("kernel;a;b 3\nkernel;a 2\n", "demo");

        using var doc = System.Text.Json.JsonDocument.Parse(bytes);
        var frames = doc.RootElement.GetProperty("shared").GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        var profile = doc.RootElement.GetProperty("profiles")[0];
        Assert.Equal(["kernel", "a", "b"], frames);
        Assert.Equal("[[0,1,2],[0,1]]", profile.GetProperty("samples").GetRawText());
        Assert.Equal("[3,2]", profile.GetProperty("weights").GetRawText());
        Assert.Equal(5, profile.GetProperty("endValue").GetInt64());
    }

    [Fact]
    public void Build_FoldedStacks_TotalsAndSelfPerPath()
    {
        var tree = FlameGraphs.Build("kernel;a;b 3\nkernel;a 2\nkernel;c 1\n");

        var a = tree.Children.Single().Children.Single(c => c.Name == "a");
        Assert.Equal(6, tree.Total);
        Assert.Equal(5, a.Total);
        Assert.Equal(2, a.Self);
        Assert.Equal(3, a.Children.Single().Total);
    }

    [Fact]
    public void Normalise_FoldedUpload_MergesSortsAndCountsBadLines()
    {
        var text = FoldedImport.Normalise("b;c 2\r\na 1\nb;c 3\nnot folded\n\n", out var samples, out var stacks, out var skipped);

        Assert.Equal("a 1\nb;c 5\n", text);
        Assert.Equal(6, samples);
        Assert.Equal(2, stacks);
        Assert.Equal(1, skipped);
    }
}
