using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Redox.Lab.Dashboard.Tests.Support;

namespace Redox.Lab.Dashboard.Tests.Pages;

/// <summary>Every page in a real browser, reached by clicking from the overview, with a screenshot each.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardPagesTests(DashboardFixture lab)
{
    private LabSeed Seed => lab.Seed;

    [Fact]
    public async Task Overview_SeededLab_ShowsBranchesFailuresQueueAndMachines()
    {
        await Seed.TouchAgentAsync();
        var page = await lab.PageAsync();
        // The seeded queued run's two jobs, and the boots the judge scheduled for the seeded runs' verdicts.
        using var api = lab.Client();
        var queued = await LabSeed.QueuedJobsAsync(api);
        Assert.True(queued >= 2, $"{queued} jobs queued");

        await page.GotoAsync("/");

        var branches = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Branches" }) });
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".stat", new() { HasText = "jobs queued" }).Locator("b")).ToHaveTextAsync(queued.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.Locator("table.runs tr", new() { HasText = "feature" }).First).ToContainTextAsync("test-failed");
        await Assertions.Expect(page.Locator("table.runs tr", new() { HasText = "noise" }).First).ToContainTextAsync("pending");
        await Assertions.Expect(page.Locator(".machine", new() { HasText = Seed.Machine })).ToContainTextAsync("idle");
        await Assertions.Expect(page.GetByText("1 of 6 tests failed: sched.yield").First).ToBeVisibleAsync();
        Assert.True(await branches.CountAsync() >= 1);
        await DashboardFixture.ScreenshotAsync(page, "01-overview");

        var dark = await lab.PageAsync(ColorScheme.Dark);
        await dark.GotoAsync("/");
        var background = await dark.EvaluateAsync<string>("getComputedStyle(document.documentElement).backgroundColor");
        Assert.Equal("rgb(14, 18, 23)", background);
        await DashboardFixture.ScreenshotAsync(dark, "01-overview-dark");
    }

    [Fact]
    public async Task ClickThrough_OverviewRunConsoleChartPoint_EndsOnARun()
    {
        var page = await lab.PageAsync();
        await page.GotoAsync("/");

        // Overview → the panicked run (recent failures).
        await page.Locator("table.runs tr", new() { HasText = "kernel-panic" }).First.Locator("a.run-link").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/runs/{Seed.PanicRun}$"));
        var summary = page.Locator("section.summary");
        await Assertions.Expect(summary).ToContainTextAsync("kernel-panic");
        await Assertions.Expect(summary.Locator("ul.problems")).ToContainTextAsync("panic");
        // The failed boot's console is inline, the failing line highlighted; missing stages are listed.
        var failing = page.Locator($"#job-{Seed.PanicJob} pre.console .l.fail.target");
        await Assertions.Expect(failing).ToContainTextAsync("KERNEL PANIC: double free");
        await Assertions.Expect(page.Locator($"#job-{Seed.PanicJob} table.waterfall tr.missing")).ToHaveCountAsync(LabSeed.Stages.Length - 5);
        // Passing tests are collapsed.
        Assert.False(await page.Locator("details.tests").First.EvaluateAsync<bool>("d => d.open"));
        await DashboardFixture.ScreenshotAsync(page, "03-run-panic");

        // Run → console, at the failing line.
        await failing.Locator("a.n").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/jobs/{Seed.PanicJob}/console\\?line=\\d+#L\\d+$"));
        await Assertions.Expect(page.Locator("pre.console .l.target")).ToContainTextAsync("KERNEL PANIC");
        await Assertions.Expect(page.Locator(".jump a.mark.fail").First).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "04-console-panic");

        // Console → boot-time chart → a point → its run.
        await page.GetByRole(AriaRole.Link, new() { Name = "Boot time", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/charts/boot-time$"));
        // The seed's chart by name: the default is where the newest passed run is, and other tests' runs are newer.
        await page.GotoAsync("/charts/boot-time?pipeline=pipelines/redox-reference.yaml&branch=main");
        var chart = page.Locator(".chart[data-ready=true]").First;
        await Assertions.Expect(chart.Locator("canvas")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".chart-legend").First).ToContainTextAsync("smp");
        var over = chart.Locator(".u-over");
        var box = (await over.BoundingBoxAsync())!;
        await over.HoverAsync(new() { Position = new() { X = box.Width - 4, Y = box.Height / 2 } });
        await Assertions.Expect(chart.Locator(".chart-tip")).ToContainTextAsync("median");
        await DashboardFixture.ScreenshotAsync(page, "05-boot-time");
        await over.ClickAsync(new() { Position = new() { X = box.Width - 4, Y = box.Height / 2 } });

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Summary" })).ToBeVisibleAsync();
        Assert.Empty(lab.Errors);
    }

    [Fact]
    public async Task HostileKernelText_RunAndConsolePages_StaysText()
    {
        var page = await lab.PageAsync();
        var pages = new[]
        {
            $"/runs/{Seed.PanicRun}", $"/jobs/{Seed.PanicJob}/console",
            $"/runs/{Seed.FailedRun}", $"/runs/{Seed.GarbageRun}", $"/jobs/{Seed.GarbageJob}/console",
            "/", "/runs",
        };

        foreach (var url in pages)
        {
            await page.GotoAsync(url);
            Assert.Null(await page.EvaluateAsync<object?>("window.__pwned"));
            Assert.Equal(0, await page.Locator("main img").CountAsync());
            Assert.Equal(0, await page.Locator("main script").CountAsync());
        }

        await page.GotoAsync($"/runs/{Seed.PanicRun}");
        Assert.Contains(LabSeed.Hostile, await page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        await page.GotoAsync($"/runs/{Seed.GarbageRun}");
        await Assertions.Expect(page.Locator("pre.console").First).ToContainTextAsync("</pre>");
        await DashboardFixture.ScreenshotAsync(page, "06-run-garbage");
        await page.GotoAsync($"/runs/{Seed.FailedRun}");
        await Assertions.Expect(page.Locator("details.tests[open]").First).ToContainTextAsync("sched.yield");
        await DashboardFixture.ScreenshotAsync(page, "07-run-test-failed");
    }

    [Fact]
    public async Task RunsPage_FilterByOutcomeThenPage_StateInTheUrl()
    {
        var page = await lab.PageAsync();
        await page.GotoAsync("/");

        await page.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true }).ClickAsync();
        await DashboardFixture.ScreenshotAsync(page, "02-runs");
        await page.Locator("select[name=outcome]").SelectOptionAsync("kernel-panic");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("outcome=kernel-panic"));
        await Assertions.Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs tbody tr td.reason")).ToContainTextAsync("double free");

        await page.GotoAsync("/runs?limit=3");
        await page.Locator("a[rel=next]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("before="));
        await Assertions.Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task ConsolePage_LongConsole_PagesSearchesAndOffersTheRawText()
    {
        var page = await lab.PageAsync();
        await page.GotoAsync($"/jobs/{Seed.LongConsoleJob}/console");

        await Assertions.Expect(page.Locator("nav.pager").First).ToContainTextAsync("of 2,");
        Assert.Equal(1000, await page.Locator("pre.console .l").CountAsync());
        await page.Locator("a[rel=next]").First.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("from=1000"));

        await page.Locator("input[name=q]").FillAsync("iteration 2400 ok");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Assertions.Expect(page.Locator(".jump a.mark.hit")).ToHaveCountAsync(1);
        await page.Locator(".jump a.mark.hit").ClickAsync();
        await Assertions.Expect(page.Locator("pre.console .l.target")).ToContainTextAsync("iteration 2400 ok <i>2400</i>");
        Assert.Contains("+", await page.Locator("pre.console .l.target .t").InnerTextAsync(), StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(page, "08-console-search", fullPage: false);

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "raw download" }).ClickAsync());
        var text = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.Contains("iteration 2400 ok <i>2400</i>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsPage_FromARunsMetric_ChartsItOverCommits()
    {
        var page = await lab.PageAsync();
        await page.GotoAsync($"/runs/{Seed.PassedRuns[^1]}");

        await page.Locator("details.metrics").First.Locator("summary").ClickAsync();
        await page.Locator("details.metrics").First.GetByRole(AriaRole.Link, new() { Name = "over commits" }).First.ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/charts/metrics\\?name=alloc.frame.cycles"));
        await Assertions.Expect(page.Locator(".chart[data-ready=true] canvas").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("select[name=name]")).ToHaveValueAsync("alloc.frame.cycles");
        await DashboardFixture.ScreenshotAsync(page, "09-metric");
        Assert.Empty(lab.Errors);
    }

    [Fact]
    public async Task MachinesPage_FromTheOverview_ShowsAgentsStatesAndRecentJobs()
    {
        await Seed.TouchAgentAsync();
        var page = await lab.PageAsync();
        await page.GotoAsync("/");

        await page.GetByRole(AriaRole.Link, new() { Name = "Machines", Exact = true }).ClickAsync();

        await Assertions.Expect(page.Locator("table.agents")).ToContainTextAsync(Seed.Agent);
        var machine = page.Locator("section.machine", new() { HasText = Seed.Machine });
        await Assertions.Expect(machine.Locator(".state")).ToHaveTextAsync("idle");
        await Assertions.Expect(machine.Locator("table.jobs tbody tr")).ToHaveCountAsync(8);
        await Assertions.Expect(page.Locator("section.machine", new() { HasText = $"{Seed.Agent}/arm-0" })).ToContainTextAsync("No jobs yet.");
        await DashboardFixture.ScreenshotAsync(page, "10-machines");
    }

    [Fact]
    public async Task Times_ViewerInBerlin_ShownInLocalZoneWithUtcOnHover()
    {
        var page = await lab.PageAsync();
        await page.GotoAsync($"/runs/{Seed.PanicRun}");

        var time = page.Locator(".run-meta time").First;
        var utc = await time.GetAttributeAsync("datetime");
        var shown = await time.InnerTextAsync();
        var title = await time.GetAttributeAsync("title");

        var expected = DateTimeOffset.Parse(utc!, System.Globalization.CultureInfo.InvariantCulture)
            .ToOffset(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin").GetUtcOffset(DateTimeOffset.Parse(utc!, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(expected.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), shown);
        Assert.Contains("UTC", title, StringComparison.Ordinal);
        Assert.Contains("Europe/Berlin", title, StringComparison.Ordinal);
    }
}
