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

    private async Task<string> ImportAsync(string name, string file)
    {
        using var client = lab.Client();
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Profiles", file));
        var response = await client.PostAsync($"/api/runs/{lab.Seed.PassedRuns[0]}/profiles?name={Uri.EscapeDataString(name)}&format=folded",
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
