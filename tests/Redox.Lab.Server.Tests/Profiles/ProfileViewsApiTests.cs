using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Tests.Artifacts;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Profiles;

[Collection(LabCollection.Name)]
public sealed class ProfileViewsApiTests(LabFixture lab)
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    internal const string BuddyAllocate = "[<rmm::allocator::frame::buddy::BuddyAllocator<A> as rmm::allocator::frame::FrameAllocator>::allocate]";

    private static string File(string dir, string name) => System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Profiles", dir, name));

    internal static async Task<ImportedProfileView> ImportAsync(HttpClient client, Guid runId, string name, string format, string body, string query = "")
    {
        var response = await client.PostAsync($"/api/runs/{runId}/profiles?name={Uri.EscapeDataString(name)}&format={format}{query}",
            new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ImportedProfileView>(Json))!;
    }

    [Fact]
    public async Task Diff_RedoxReferenceProfiles_BuddyAllocatorFallsFrom35Point8PercentToZero()
    {
        var runId = await lab.InsertRunAsync("name: imported\n", T0);
        using var client = lab.Client();
        var before = await ImportAsync(client, runId, "Redox boot, before p2buddy", "folded", File("Reference", "redox-boot-before.folded"));
        var after = await ImportAsync(client, runId, "Redox boot, after p2buddy", "folded", File("Reference", "redox-boot-after.folded"));

        var diff = (await client.GetFromJsonAsync<ProfileDiff>($"/api/profiles/diff?base={before.Ref}&head={after.Ref}", Json))!;

        Assert.Equal(6450, before.Samples);
        Assert.Equal(6316, after.Samples);
        var buddy = Assert.Single(diff.Frames, f => f.Name == BuddyAllocate);
        Assert.Equal(2309.0 / 6450, buddy.BaseTotal, 12);
        Assert.Equal(0, buddy.HeadTotal);
        Assert.Equal("35.8%", (buddy.BaseTotal * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%");
        Assert.Equal(buddy, diff.Frames[0]); // the largest change of all
        Assert.Null(buddy.P);                 // one profile per side: no test
        Assert.Equal(0, diff.FramesTested);
        var kernel = Assert.Single(diff.Root.Children);
        Assert.Equal(1, kernel.Base, 9);
        Assert.Equal(1, kernel.Head, 9);
        var vanished = Find(diff.Root, BuddyAllocate);
        Assert.Equal(0, vanished.Head);
        Assert.True(vanished.Width >= vanished.Base);
        var listed = await client.GetFromJsonAsync<List<ImportedProfileView>>($"/api/runs/{runId}/profiles", Json);
        Assert.Equal(["Redox boot, before p2buddy", "Redox boot, after p2buddy"], listed!.Select(p => p.Name));
    }

    private static DiffNode Find(DiffNode node, string name) =>
        node.Name == name ? node : node.Children.Select(c => TryFind(c, name)).FirstOrDefault(n => n is not null)!;

    private static DiffNode? TryFind(DiffNode node, string name) =>
        node.Name == name ? node : node.Children.Select(c => TryFind(c, name)).FirstOrDefault(n => n is not null);

    [Fact]
    public async Task Import_PerfScript_FoldsLikeThePerlScriptAndExports()
    {
        var runId = await lab.InsertRunAsync("name: imported\n", T0);
        using var client = lab.Client();

        var imported = await ImportAsync(client, runId, "fold-demo", "perf-script", File("PerfScript", "fold-demo.perf-script"));
        var folded = await client.GetAsync($"/api/profiles/folded?profile={imported.Ref}&download=true");
        var speedscope = await client.GetAsync($"/api/profiles/speedscope?profile={imported.Ref}");
        var tree = (await client.GetFromJsonAsync<FlameNode>($"/api/profiles/flamegraph?profile={imported.Ref}", Json))!;

        Assert.Equal("cpu-clock", imported.Event);
        Assert.Equal(File("PerfScript", "fold-demo.folded"), await folded.Content.ReadAsStringAsync());
        Assert.Equal("attachment", folded.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/json", speedscope.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith(".speedscope.json", speedscope.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(await speedscope.Content.ReadAsStringAsync());
        var profile = doc.RootElement.GetProperty("profiles")[0];
        Assert.Equal(Speedscope.Schema, doc.RootElement.GetProperty("$schema").GetString());
        Assert.Equal("sampled", profile.GetProperty("type").GetString());
        Assert.Equal(imported.Stacks, profile.GetProperty("samples").GetArrayLength());
        var weights = profile.GetProperty("weights").EnumerateArray().Sum(w => w.GetInt64());
        Assert.Equal(weights, profile.GetProperty("endValue").GetInt64());
        Assert.Equal(weights, tree.Total);
        Assert.Equal("fold-demo", Assert.Single(tree.Children).Name);
        var frames = doc.RootElement.GetProperty("shared").GetProperty("frames");
        Assert.Contains(frames.EnumerateArray(), f => f.GetProperty("name").GetString() == "leaf");
    }

    [Fact]
    public async Task Diff_TwoJobsWithFiveBootsEach_MarksTheFunctionThatChangedBeyondNoise()
    {
        using var client = lab.Client();
        var (agentA, jobA) = await ArtifactsApiTests.ClaimedJobAsync(lab, "diffa", boots: 5);
        var (agentB, jobB) = await ArtifactsApiTests.ClaimedJobAsync(lab, "diffb", boots: 5);
        // Base: the allocator takes 40..44 of 100 samples per boot; head: 10..14. kmain's other work stays.
        // (Five boots a side: with four, the smallest two-sided p, 2/70, does not survive Holm's correction for two functions.)
        for (var boot = 0; boot < 5; boot++)
        {
            await PostBootAsync(agentA, jobA.JobId, boot, Script(allocator: 40 + boot, other: 60 - boot));
            await PostBootAsync(agentB, jobB.JobId, boot, Script(allocator: 10 + boot, other: 90 - boot));
        }

        var diff = (await client.GetFromJsonAsync<ProfileDiff>($"/api/profiles/diff?base=job:{jobA.JobId}&head=job:{jobB.JobId}", Json))!;

        Assert.Equal(5, diff.BaseProfiles);
        Assert.Equal(5, diff.HeadProfiles);
        var allocator = Assert.Single(diff.Frames, f => f.Name == "[kernel <100010>]");
        Assert.True(allocator.Significant, $"p={allocator.P} adjusted={allocator.AdjustedP}");
        Assert.Equal(5, allocator.BaseTotals.Count);
        Assert.True(allocator.DeltaTotal < -0.25);
        var main = Assert.Single(diff.Frames, f => f.Name == "[kernel <100200>]");
        Assert.False(main.Significant); // on every stack of both sides: share 1 everywhere
        Assert.Equal(1.0, main.AdjustedP);
    }

    [Fact]
    public async Task Diff_BaselineAgainstCandidate_ComparesTheTwoCommitsBootsOnTheRunsMachine()
    {
        using var client = lab.Client();
        var (agent, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "sides");
        for (var boot = 0; boot < 2; boot++)
            await PostBootAsync(agent, job.JobId, boot, Script(allocator: 10, other: 90));
        var baseCommit = new string('b', 40);
        Guid runId;
        await using (var scope = lab.Scope())
        {
            // The run was judged against baseCommit, whose boots on the same machine and variant came from a
            // baseline run and an extra round; a calibration run of that commit does not count.
            var db = scope.ServiceProvider.GetRequiredService<LabDbContext>();
            var jobRow = await db.Jobs.Include(j => j.Run).SingleAsync(j => j.Id == job.JobId);
            runId = jobRow.RunId;
            jobRow.Run.BaselineCommit = baseCommit;
            jobRow.Run.BaselineReason = "merge base";
            foreach (var (kind, inAllocator) in new[] { (RunKinds.Baseline, 40), (RunKinds.Extra, 42), (RunKinds.Calibration, 0) })
            {
                var run = new RunRow
                {
                    Id = Guid.NewGuid(), RepositoryId = jobRow.Run.RepositoryId, Commit = baseCommit, PipelinePath = jobRow.Run.PipelinePath,
                    PipelineYaml = jobRow.Run.PipelineYaml, Kind = kind, ParentRunId = runId, CreatedAt = T0, EndedAt = T0, Outcome = Outcome.Passed,
                };
                var other = new JobRow { Id = Guid.NewGuid(), RunId = run.Id, Variant = jobRow.Variant, MachineId = jobRow.MachineId, State = JobStates.Ended, CreatedAt = T0 };
                var folded = $"kernel;[kernel <100200>] {100 - inAllocator}\nkernel;[kernel <100200>];[kernel <100010>] {inAllocator}\n";
                var bootRow = new BootRow { Id = Guid.NewGuid(), JobId = other.Id, Index = 0, Outcome = Outcome.Passed, StartedAt = T0, EndedAt = T0 };
                bootRow.Profile = new ProfileRow { BootId = bootRow.Id, Raw = "", Folded = folded, Samples = 100, Symbolized = false };
                db.Runs.Add(run);
                db.Jobs.Add(other);
                db.Boots.Add(bootRow);
            }
            await db.SaveChangesAsync();
        }

        var variant = job.Variant;
        var diff = (await client.GetFromJsonAsync<ProfileDiff>($"/api/profiles/diff?base=baseline:{runId}:{variant}&head=candidate:{runId}:{variant}", Json))!;
        var runPage = await client.GetStringAsync($"/runs/{runId}");

        Assert.Equal(2, diff.BaseProfiles);   // baseline and extra round; not the calibration
        Assert.Equal(2, diff.HeadProfiles);
        var allocator = Assert.Single(diff.Frames, f => f.Name == "[kernel <100010>]");
        Assert.Equal(0.41, allocator.BaseTotal, 9);
        Assert.Equal(0.10, allocator.HeadTotal, 9);
        // The run page links the flamegraph pages: each boot, the variant's boots, the verdict's two sides.
        Assert.Contains($"/profiles/flamegraph?profile={Uri.EscapeDataString($"boot:{job.JobId}:0")}", runPage, StringComparison.Ordinal);
        Assert.Contains($"/profiles/flamegraph?profile={Uri.EscapeDataString($"run:{runId}:{variant}")}", runPage, StringComparison.Ordinal);
        Assert.Contains($"/profiles/diff?base={Uri.EscapeDataString($"baseline:{runId}:{variant}")}&amp;head={Uri.EscapeDataString($"candidate:{runId}:{variant}")}",
            runPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_BaselineOfAnUnjudgedRun_NotFound()
    {
        var (_, job) = await ArtifactsApiTests.ClaimedJobAsync(lab, "unjudged");
        using var client = lab.Client();

        var response = await client.GetAsync($"/api/profiles/diff?base=baseline:{job.RunId}:{job.Variant}&head=candidate:{job.RunId}:{job.Variant}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>allocator samples in [100010] under [100200]; other samples in [100200] alone.</summary>
    private static string Script(int allocator, int other)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < allocator; i++) sb.Append("kernel 0 [000] 0.1: 1 cpu-clock:\n\t100010 [unknown] (kernel)\n\t100200 [unknown] (kernel)\n\n");
        for (var i = 0; i < other; i++) sb.Append("kernel 0 [000] 0.1: 1 cpu-clock:\n\t100200 [unknown] (kernel)\n\n");
        return sb.ToString();
    }

    private static async Task PostBootAsync(HttpClient agent, Guid jobId, int index, string profile)
    {
        var report = new BootReport(index, Outcome.Passed, null, T0, T0.AddSeconds(1), null, [], [], [], [], 0, profile);
        var response = await agent.PostAsJsonAsync($"/api/agent/jobs/{jobId}/boots/{index}", report, LabFixture.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Diff_CommaSeparatedUploads_EachUploadOneObservationOnce()
    {
        var runId = await lab.InsertRunAsync("name: imported\n", T0);
        using var client = lab.Client();
        // Five uploads a side, as profiles recorded elsewhere: the allocator in 40..44 of 100 samples against 10..14.
        var before = new List<string>();
        var after = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            before.Add((await ImportAsync(client, runId, $"rmm {i}", "folded", $"kernel;kmain;alloc {40 + i}\nkernel;kmain {60 - i}\n")).Ref);
            after.Add((await ImportAsync(client, runId, $"p2buddy {i}", "folded", $"kernel;kmain;alloc {10 + i}\nkernel;kmain {90 - i}\n")).Ref);
        }
        // The first upload named twice still counts once.
        var baseGroup = string.Join(',', before.Append(before[0]));

        var diff = (await client.GetFromJsonAsync<ProfileDiff>($"/api/profiles/diff?base={baseGroup}&head={string.Join(',', after)}", Json))!;
        var folded = await client.GetStringAsync($"/api/profiles/folded?profile={baseGroup}");

        Assert.Equal(5, diff.BaseProfiles);
        Assert.Equal(5, diff.HeadProfiles);
        var alloc = Assert.Single(diff.Frames, f => f.Name == "alloc");
        Assert.True(alloc.Significant, $"p={alloc.P} adjusted={alloc.AdjustedP}");
        Assert.Equal([0.40, 0.41, 0.42, 0.43, 0.44], alloc.BaseTotals!.Order().Select(v => Math.Round(v, 9)));
        Assert.Equal("kernel;kmain 290\nkernel;kmain;alloc 210\n", folded); // summed over the five, not six
    }

    [Fact]
    public async Task Views_GroupNamingAnUnknownProfile_NotFoundNamingIt()
    {
        var runId = await lab.InsertRunAsync("name: imported\n", T0);
        using var client = lab.Client();
        var known = await ImportAsync(client, runId, "one", "folded", "kernel;kmain 1\n");
        var unknown = $"import:{Guid.NewGuid()}";

        var response = await client.GetAsync($"/api/profiles/flamegraph?profile={known.Ref},{unknown}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(unknown, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Views_GroupOfTooManyReferences_BadRequest()
    {
        using var client = lab.Client();
        var group = string.Join(',', Enumerable.Repeat("job:x", ProfileLibrary.MaxGroupReferences + 1));

        var response = await client.GetAsync($"/api/profiles/flamegraph?profile={group}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"at most {ProfileLibrary.MaxGroupReferences}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/profiles/flamegraph?profile=nonsense", HttpStatusCode.BadRequest)]
    [InlineData("/api/profiles/flamegraph", HttpStatusCode.BadRequest)]
    [InlineData("/api/profiles/folded?profile=import:0190b8a0-0000-7000-8000-000000000000", HttpStatusCode.NotFound)]
    [InlineData("/api/profiles/diff?base=job:0190b8a0-0000-7000-8000-000000000000&head=job:0190b8a0-0000-7000-8000-000000000000", HttpStatusCode.NotFound)]
    [InlineData("/api/profiles/diff?base=job:x", HttpStatusCode.BadRequest)]
    [InlineData("/api/profiles/flamegraph?profile=import:0190b8a0-0000-7000-8000-000000000000,nonsense", HttpStatusCode.BadRequest)]
    public async Task Views_BadOrUnknownReferences_ClearErrors(string url, HttpStatusCode expected)
    {
        using var client = lab.Client();

        var response = await client.GetAsync(url);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Import_BadInput_ClearErrorsAndNothingStored()
    {
        var runId = await lab.InsertRunAsync("name: imported\n", T0);
        using var client = lab.Client();

        var noStacks = await client.PostAsync($"/api/runs/{runId}/profiles?name=x&format=folded", new StringContent("not a folded line\n"));
        var badFormat = await client.PostAsync($"/api/runs/{runId}/profiles?name=x&format=svg", new StringContent("a 1\n"));
        var noName = await client.PostAsync($"/api/runs/{runId}/profiles?format=folded", new StringContent("a 1\n"));
        var noRun = await client.PostAsync($"/api/runs/{Guid.NewGuid()}/profiles?name=x&format=folded", new StringContent("a 1\n"));
        var garbage = await client.PostAsync($"/api/runs/{runId}/profiles?name=x&format=perf-script", new StringContent("\u0001\u0002 random bytes\n\n\n"));

        Assert.Equal(HttpStatusCode.BadRequest, noStacks.StatusCode);
        Assert.Contains("1 lines not understood", await noStacks.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badFormat.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRun.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<List<ImportedProfileView>>($"/api/runs/{runId}/profiles", Json))!);
    }
}
