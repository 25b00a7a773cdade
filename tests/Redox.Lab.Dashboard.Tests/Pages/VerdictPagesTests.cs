using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Dashboard.Tests.Support;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Dashboard.Tests.Pages;

/// <summary>
/// The verdict pages in a real browser over a history the real judge judged: a scripted agent (the server tests'
/// <see cref="ScriptedAgent"/>, over the real agent API) reports a commit that is 30% slower and double-frees
/// with a hostile message and a hostile test name, a branch whose 3rd commit is slow (bisected), and an A/A
/// calibration. Run page verdicts, regressions with their bisection, bugs list and detail, compare and
/// calibration show them, and the kernel's text stays text.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class VerdictPagesTests(DashboardFixture lab)
{
    private const string HostileTest = "mm.selftest<img src=x onerror=\"window.__pwned=2\">";

    [Fact]
    public async Task VerdictPages_JudgedHistoryWithHostileText_ShowVerdictsRegressionsBisectionBugsCompareCalibration()
    {
        var tag = "verdicts-" + Guid.NewGuid().ToString("N")[..8];
        using var client = lab.Client();
        var agentClient = await lab.EnrolAsync("verdicts-rack", [new MachineInfo("qemu-0", "qemu", [tag], 1, 256)]);
        await using var agent = ScriptedAgent.Start(agentClient);
        var repo = await GitRepo.CreateAsync(lab.TempDir, new Dictionary<string, string>
        {
            // Its own pipeline file, so the seed's charts of pipelines/redox-reference.yaml stay the seed's.
            ["pipelines/verdicts.yaml"] = $$"""
                name: verdicts
                build:
                  commands: [make]
                  artifacts: { image: kernel.bin }
                boot:
                  count: 5
                  machine: { tags: [{{tag}}] }
                judge:
                  metrics:
                    syscall.enosys.cycles: { threshold: 2% }
                """,
        });
        var registered = await client.PostAsJsonAsync("/api/repositories",
            new RepositoryView("verdicts-kernel", repo.Path, "main", ["pipelines/*.yaml"], true, ["*"]), DashboardFixture.Json);
        Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());

        // main: c0, then c1: 30% slower, double-frees with a hostile message, fails a test with a hostile name that c0 passed.
        var c0 = (await repo.GitAsync("rev-parse", "HEAD")).Trim();
        agent.Kernels[c0] = new ScriptedKernel(1000, Noise: 0.001, Test: HostileTest);
        var run0 = await JudgedAsync(client, repo, "main");
        var c1 = (await repo.CommitAsync(new Dictionary<string, string> { ["free"] = "twice" }, "double free")).Trim();
        agent.Kernels[c1] = new ScriptedKernel(1300, DoubleFree: true, Noise: 0.001, Message: LabSeed.Hostile, Test: HostileTest);
        var run1 = await JudgedAsync(client, repo, "main");
        // A branch off c0 whose 3rd commit of 4 is slow: bisected.
        await repo.GitAsync("checkout", "--quiet", "-b", "topic", c0);
        var topic = new List<string>();
        for (var i = 1; i <= 4; i++)
        {
            var c = (await repo.CommitAsync(new Dictionary<string, string> { [$"topic{i}"] = $"{i}" }, $"topic {i}")).Trim();
            agent.Kernels[c] = new ScriptedKernel(i >= 3 ? 1300 : 1000, Noise: 0.001);
            topic.Add(c);
        }
        var branchRun = await JudgedAsync(client, repo, "topic");
        await Judged.BisectionAsync(client, branchRun);
        // An A/A calibration of c0.
        var calibrate = await client.PostAsJsonAsync("/api/calibrations", new CalibrationRequest(run0), DashboardFixture.Json);
        Assert.Equal(HttpStatusCode.Accepted, calibrate.StatusCode);
        await Judged.UntilAsync(async () => (await client.GetFromJsonAsync<List<CalibrationView>>("/api/calibrations", DashboardFixture.Json))!
            .FirstOrDefault(c => c.Machine == "verdicts-rack/qemu-0" && c.Comparisons > 0));

        var page = await lab.PageAsync();

        // 1. The run page: its verdicts, the 30% regression with its shift, the bug and the test, as text.
        await page.GotoAsync($"/runs/{run1}");
        var verdicts = page.Locator("section#verdicts");
        await Assertions.Expect(verdicts.Locator("h2")).ToContainTextAsync("regression");
        await Assertions.Expect(verdicts).ToContainTextAsync($"against {c0[..10]}");
        var slow = verdicts.Locator("table.verdicts tr", new() { HasText = "syscall.enosys.cycles" });
        await Assertions.Expect(slow).ToContainTextAsync("+30");
        await Assertions.Expect(slow).ToContainTextAsync("5 / 5");
        await Assertions.Expect(verdicts.Locator("table.verdicts tr", new() { HasText = "<script>window.__pwned=N</script>" })).ToContainTextAsync("regression");
        await Assertions.Expect(verdicts.Locator("table.verdicts tr", new() { HasText = HostileTest })).ToContainTextAsync("regression");
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "20-run-verdicts");

        // 2. Regressions, reached from the navigation: the branch's regression with its bisection naming the 3rd commit.
        await page.GetByRole(AriaRole.Link, new() { Name = "Regressions", Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/regressions$"));
        var bisection = page.Locator("section.bisection", new() { HasText = topic[2] });
        await Assertions.Expect(bisection).ToContainTextAsync("done");
        await Assertions.Expect(bisection.Locator("p", new() { HasText = "First bad commit" })).ToContainTextAsync(topic[2]);
        await Assertions.Expect(bisection.Locator("ol.evidence li")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("section.regression", new() { HasText = "<script>window.__pwned=N</script>" }).First).ToBeVisibleAsync();
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "21-regressions");

        // 3. Bugs: the hostile title is a link to the bug, whose page lists its sightings.
        await page.GetByRole(AriaRole.Link, new() { Name = "Bugs", Exact = true }).ClickAsync();
        var bugRow = page.Locator("table.bugs tr", new() { HasText = "double-free: <script>window.__pwned=N</script>" });
        await Assertions.Expect(bugRow).ToContainTextAsync("new");
        await Assertions.Expect(bugRow).ToContainTextAsync("verdicts-rack/qemu-0");
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "22-bugs");
        await bugRow.Locator("a").First.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/bugs/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("double-free: <script>window.__pwned=N</script>");
        await Assertions.Expect(page.Locator("table.sightings tbody tr")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("table.sightings tbody tr").First).ToContainTextAsync(LabSeed.Hostile);
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "23-bug");

        // 4. Compare the two main runs: a regression, the bug added.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compare", Exact = true }).ClickAsync();
        await page.Locator("input[name=a]").FillAsync(run0.ToString());
        await page.Locator("input[name=b]").FillAsync(run1.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/compare\\?a={run0}&b={run1}$"));
        await Assertions.Expect(page.Locator("h2")).ToContainTextAsync("Regression");
        await Assertions.Expect(page.Locator("table.verdicts tr", new() { HasText = "syscall.enosys.cycles" })).ToContainTextAsync("regression");
        await Assertions.Expect(page.Locator("ul.problems li", new() { HasText = "added" })).ToContainTextAsync("<script>window.__pwned=N</script>");
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "24-compare");

        // 5. Calibration: the A/A comparison of this machine, with its noise.
        await page.GetByRole(AriaRole.Link, new() { Name = "Calibration", Exact = true }).ClickAsync();
        var calibration = page.Locator("table.calibration tr", new() { HasText = "verdicts-rack/qemu-0" }).Filter(new() { HasText = "syscall.enosys.cycles" });
        await Assertions.Expect(calibration).ToContainTextAsync("%");
        await Assertions.Expect(calibration.Locator("td").Nth(4)).ToHaveTextAsync("1");
        await AssertInertAsync(page);
        await DashboardFixture.ScreenshotAsync(page, "25-calibration");
        Assert.Empty(lab.Errors);

        // Leave no work behind for the other pages' tests (the overview counts queued jobs): every run the judge
        // scheduled for this repository ends while the scripted agent still serves them.
        await Judged.UntilAsync(async () => (await client.GetFromJsonAsync<List<RunSummary>>("/api/runs?limit=1000", DashboardFixture.Json))!
            .Any(r => r.Repository == "verdicts-kernel" && r.EndedAt is null) ? null : "all ended");
    }

    private static async Task<Guid> JudgedAsync(HttpClient client, GitRepo repo, string branch)
    {
        var response = await client.PostAsJsonAsync("/api/runs", new PushRequest(repo.Path, branch, Pipeline: "pipelines/verdicts.yaml"), DashboardFixture.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var run = (await response.Content.ReadFromJsonAsync<PushResponse>(DashboardFixture.Json))!.RunId;
        await Judged.VerdictsAsync(client, run);
        return run;
    }

    /// <summary>The kernel's text stayed text: no script ran, no element came from it.</summary>
    private static async Task AssertInertAsync(IPage page)
    {
        Assert.Null(await page.EvaluateAsync<object?>("window.__pwned"));
        Assert.Equal(0, await page.Locator("main img").CountAsync());
        Assert.Equal(0, await page.Locator("main script").CountAsync());
    }
}
