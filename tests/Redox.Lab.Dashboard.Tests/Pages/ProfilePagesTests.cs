using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Playwright;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Tests.Support;

namespace Redox.Lab.Dashboard.Tests.Pages;

/// <summary>The flamegraph and differential pages in a real browser, on the real Redox boot profiles before and after p2buddy.</summary>
[Collection(DashboardCollection.Name)]
public sealed class ProfilePagesTests(DashboardFixture lab)
{
    private const string Buddy = "[<rmm::allocator::frame::buddy::BuddyAllocator<A> as rmm::allocator::frame::FrameAllocator>::allocate]";

    private async Task<string> ImportAsync(string name, string file, Guid? run = null)
    {
        using var client = lab.Client();
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Profiles", file));
        var response = await client.PostAsync($"/api/runs/{run ?? lab.Seed.PassedRuns[0]}/profiles?name={Uri.EscapeDataString(name)}&format=folded",
            new StringContent(text, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ImportedProfileView>(DashboardFixture.Json))!.Ref;
    }

    [Fact]
    public async Task DiffPage_RedoxBeforeAndAfterP2buddy_AllocatorFallsFrom35Point8PercentToZero()
    {
        var before = await ImportAsync("redox boot before p2buddy", "redox-boot-before.folded");
        var after = await ImportAsync("redox boot after p2buddy", "redox-boot-after.folded");
        var page = await lab.PageAsync();

        await page.GotoAsync($"/profiles/diff?base={before}&head={after}");

        var row = page.Locator("table.diff-frames tbody tr").First;
        await Assertions.Expect(row.Locator("td.frame-name")).ToHaveTextAsync(Buddy);
        await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("35.8%");
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("0.0%");
        await Assertions.Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("−35.8 pt");
        var frame = page.Locator(".flamegraph .frame", new() { HasText = "BuddyAllocator<A> as rmm::allocator::frame::FrameAllocator>::allocate" }).First;
        await Assertions.Expect(frame).ToBeVisibleAsync();   // vanished on the head side, drawn at the base's width
        await frame.HoverAsync();
        await Assertions.Expect(page.Locator(".flame-status")).ToContainTextAsync("head 0.0%");
        await DashboardFixture.ScreenshotAsync(page, "12-profile-diff-redox-p2buddy");
    }

    /// <summary>Uploads the ten profiled boots of one allocator (Profiles/ReferenceKernel/README.md) and returns them as one group.</summary>
    private async Task<string> ImportBootsAsync(string allocator)
    {
        var refs = new List<string>();
        for (var boot = 1; boot <= 10; boot++)
            refs.Add(await ImportAsync($"reference kernel, {allocator}, boot {boot}", $"reference-kernel-{allocator}-boot{boot:00}.folded"));
        return string.Join(',', refs);
    }

    [Fact]
    public async Task DiffPage_TenRmmBootsAgainstTenP2buddyBoots_AllocatorsMarkedBeyondNoise()
    {
        // Real profiled boots of the reference kernel, NMI samples of the kernel and of bootstrap's and the daemons' ring 3.
        var rmm = await ImportBootsAsync("rmm");
        var p2buddy = await ImportBootsAsync("p2buddy");
        var page = await lab.PageAsync();

        await page.GotoAsync($"/profiles/diff?base={rmm}&head={p2buddy}");

        await Assertions.Expect(page.Locator("p.sub").First).ToContainTextAsync("and 9 more references (10 profile(s)");
        // Each variant links one allocator: rmm's functions are on the base side only, p2buddy's on the head side only,
        // and in every boot of their side, which no boot-to-boot spread explains.
        var rmmAlloc = page.Locator("table.diff-frames tbody tr", new() { Has = page.Locator("td.frame-name", new() { HasTextString = "rmm_alloc" }) });
        await Assertions.Expect(rmmAlloc).ToHaveClassAsync("significant");
        await Assertions.Expect(rmmAlloc.Locator("td").Nth(2)).ToHaveTextAsync("0.0%");
        await Assertions.Expect(rmmAlloc.Locator("td").Last).ToHaveTextAsync("beyond noise");
        var p2buddyFree = page.Locator("table.diff-frames tbody tr", new() { Has = page.Locator("td.frame-name", new() { HasTextString = "p2buddy_free" }) });
        await Assertions.Expect(p2buddyFree).ToHaveClassAsync("significant");
        await Assertions.Expect(p2buddyFree.Locator("td").Nth(1)).ToHaveTextAsync("0.0%");
        // Not everything is marked: functions seen in a few boots of either side stay within the noise.
        Assert.True(await page.Locator("table.diff-frames tbody tr:not(.significant)").CountAsync() > 0);
        await DashboardFixture.ScreenshotAsync(page, "12-profile-diff-reference-kernel-rmm-p2buddy");

        await page.GotoAsync($"/profiles/flamegraph?profile={p2buddy}");
        await page.Locator(".flame-search").FillAsync("_[u]");
        // The daemons' own frames: the NMI interrupted ring 3 too.
        await Assertions.Expect(page.Locator(".flamegraph .frame.hit", new() { HasTextString = "daemon_main_[u]" }).First).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "12-profile-flamegraph-reference-kernel-p2buddy");
        Assert.Empty(lab.Errors);
    }

    /// <summary>The frames drawn: text, left and width (percent of the graph), top (pixels from the graph's top).</summary>
    private static async Task<Drawn[]> FramesAsync(IPage page) =>
        System.Text.Json.JsonSerializer.Deserialize<Drawn[]>(await page.EvaluateAsync<string>("""
            () => { const g = document.querySelector('.flamegraph').getBoundingClientRect();
                    return JSON.stringify(Array.from(document.querySelectorAll('.flamegraph .frame')).map(e => {
                      const r = e.getBoundingClientRect();
                      return { name: e.textContent, left: parseFloat(e.style.left), width: parseFloat(e.style.width), top: r.top - g.top, focus: e.classList.contains('focus') }; })); }
            """), DashboardFixture.Json)!;

    private sealed record Drawn(string Name, double Left, double Width, double Top, bool Focus);

    [Fact]
    public async Task FlamegraphPage_ClickFrame_ZoomsItToFullWidthAndResetRestores()
    {
        var before = await ImportAsync("redox boot before p2buddy (zoom)", "redox-boot-before.folded");
        var page = await lab.PageAsync();
        await page.GotoAsync($"/profiles/flamegraph?profile={before}");
        var unzoomed = await FramesAsync(page);
        var buddy = page.Locator(".flamegraph .frame", new() { HasText = "BuddyAllocator<A> as rmm::allocator::frame::FrameAllocator>::allocate" }).First;
        var buddyWidth = unzoomed.First(f => f.Name.Contains("BuddyAllocator<A> as rmm", StringComparison.Ordinal)).Width;

        await buddy.ClickAsync();

        var zoomed = await FramesAsync(page);
        var focus = Assert.Single(zoomed, f => f.Focus);
        Assert.Contains("BuddyAllocator<A> as rmm", focus.Name, StringComparison.Ordinal);
        Assert.Equal(100, focus.Width, 3);                                   // the zoomed frame spans the graph
        Assert.InRange(buddyWidth, 1, 99);                                   // it did not before
        var root = zoomed[0];
        Assert.Equal("all", root.Name);                                      // its ancestors stay, root first, full width
        Assert.Equal(100, root.Width, 3);
        Assert.All(zoomed, f => Assert.InRange(f.Left + f.Width, 0, 100.001));
        Assert.True(zoomed.Length < unzoomed.Length, "only the zoomed frame's ancestors and callees are left");
        // Its callees stand on it, one row up, and fill at most its width.
        var callees = zoomed.Where(f => Math.Abs(f.Top - (focus.Top - 18)) < 1).ToList();
        Assert.NotEmpty(callees);
        Assert.InRange(callees.Sum(f => f.Width), 1, 100.001);
        await page.Locator(".flamegraph .frame.focus").HoverAsync();
        // Shares stay of the whole profile when zoomed: this call path of the allocator, not 100%.
        await Assertions.Expect(page.Locator(".flame-status")).ToContainTextAsync("BuddyAllocator<A> as rmm");
        await Assertions.Expect(page.Locator(".flame-status")).Not.ToContainTextAsync("100.0% of all");
        await DashboardFixture.ScreenshotAsync(page, "12-profile-flamegraph-zoom");

        await page.Locator(".flame-reset").ClickAsync();

        var reset = await FramesAsync(page);
        Assert.Equal(unzoomed, reset);
        Assert.Empty(lab.Errors);
    }

    [Fact]
    public async Task FlamegraphPage_Icicle_RootOnTopThenBackToFlame()
    {
        var before = await ImportAsync("redox boot before p2buddy (icicle)", "redox-boot-before.folded");
        var page = await lab.PageAsync();
        await page.GotoAsync($"/profiles/flamegraph?profile={before}");
        var orientation = page.Locator(".flame-orientation");
        var flame = await FramesAsync(page);

        await orientation.ClickAsync();

        await Assertions.Expect(orientation).ToHaveAttributeAsync("data-orientation", "icicle");
        await Assertions.Expect(orientation).ToHaveTextAsync("flame");
        var icicle = await FramesAsync(page);
        Assert.Equal(flame.Select(f => (f.Name, f.Left, f.Width)), icicle.Select(f => (f.Name, f.Left, f.Width)));
        // Flame: the root is the bottom row, callees above their callers; icicle: the root on top, callees below.
        var rootAndKernel = (Flame: (flame[0].Top, flame[1].Top), Icicle: (icicle[0].Top, icicle[1].Top));
        Assert.Equal("all", flame[0].Name);
        Assert.True(rootAndKernel.Flame.Item1 > rootAndKernel.Flame.Item2, $"flame: root at {rootAndKernel.Flame.Item1}, child at {rootAndKernel.Flame.Item2}");
        Assert.Equal(icicle.Min(f => f.Top), rootAndKernel.Icicle.Item1);
        Assert.True(rootAndKernel.Icicle.Item1 < rootAndKernel.Icicle.Item2);
        Assert.Equal(flame.Max(f => f.Top), flame[0].Top);                    // flame: the root is the lowest row
        await DashboardFixture.ScreenshotAsync(page, "12-profile-flamegraph-icicle");

        await orientation.ClickAsync();

        await Assertions.Expect(orientation).ToHaveAttributeAsync("data-orientation", "flame");
        Assert.Equal(flame, await FramesAsync(page));
        Assert.Empty(lab.Errors);
    }

    [Fact]
    public async Task RunPage_ImportedProfiles_LinksToFlamegraphAndDifferential()
    {
        // A run of its own: the other tests' uploads go to PassedRuns[0].
        var run = lab.Seed.PassedRuns[1];
        var before = await ImportAsync("redox boot before p2buddy (run page)", "redox-boot-before.folded", run);
        var after = await ImportAsync("redox boot after p2buddy (run page)", "redox-boot-after.folded", run);
        var page = await lab.PageAsync();
        await page.GotoAsync($"/runs/{run}");
        var card = page.Locator("section.profiles");
        await Assertions.Expect(card).ToContainTextAsync("redox boot after p2buddy (run page)");

        await card.GetByRole(AriaRole.Link, new() { Name = "differential from redox boot before p2buddy (run page)" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/profiles/diff\\?"));
        Assert.Contains(Uri.EscapeDataString(before), page.Url, StringComparison.Ordinal);
        Assert.Contains(Uri.EscapeDataString(after), page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("table.diff-frames tbody tr").First.Locator("td.frame-name")).ToHaveTextAsync(Buddy);
        await page.GoBackAsync();
        await card.Locator("li", new() { HasTextRegex = new System.Text.RegularExpressions.Regex(@"^\s*imported redox boot before p2buddy \(run page\)") })
            .GetByRole(AriaRole.Link, new() { Name = "flamegraph" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync(before);
        await Assertions.Expect(page.Locator(".flamegraph .frame").First).ToHaveTextAsync("all");
        Assert.Empty(lab.Errors);
    }

    [Fact]
    public async Task FlamegraphPage_RedoxBoot_SearchHighlightsAndHoverShowsSamples()
    {
        var before = await ImportAsync("redox boot before p2buddy", "redox-boot-before.folded");
        var page = await lab.PageAsync();

        await page.GotoAsync($"/profiles/flamegraph?profile={before}");
        await page.Locator(".flame-search").FillAsync("BuddyAllocator");

        await Assertions.Expect(page.Locator(".flame-match")).ToContainTextAsync("matched: 35.8%");
        Assert.True(await page.Locator(".flamegraph .frame.hit").CountAsync() > 0);
        var kernel = page.Locator(".flamegraph .frame", new() { HasTextString = "kernel" }).First;
        await kernel.HoverAsync();
        await Assertions.Expect(page.Locator(".flame-status")).ToContainTextAsync("6450 samples, 100.0% of all");
        await DashboardFixture.ScreenshotAsync(page, "12-profile-flamegraph-search");

        Assert.Empty(lab.Errors);
    }
}
