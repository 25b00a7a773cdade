using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Machines;
using Redox.Lab.Server.Tests.Jobs;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Machines;

[Collection(LabCollection.Name)]
public sealed class MachineHealthApiTests(LabFixture lab)
{
    [Fact]
    public async Task InfraFailureWithCheckRequested_RetryOnTheOtherMachineAndFailedOneWaitsForItsCheck()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("health-" + tag, ["x86_64", tag], ["x86_64", tag]);
        var pushed = await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
        var failed = (await LabFixture.NextJobAsync(agent, 10))!;

        var reported = await agent.PostAsJsonAsync($"/api/agent/machines/{failed.MachineName}/health",
            new MachineHealthReport(MachineHealth.Unknown, "console lost mid-boot", RequestCheck: true), LabFixture.Json);
        var completed = await agent.PostAsJsonAsync($"/api/agent/jobs/{failed.JobId}/complete", new JobCompletion(Outcome.InfraError, "boot 0: console lost"), LabFixture.Json);
        var claimed = new List<JobAssignment>();
        while (await LabFixture.NextJobAsync(agent, 1) is { } next)
            claimed.Add(next);

        Assert.Equal(HttpStatusCode.NoContent, reported.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, completed.StatusCode);
        Assert.NotEmpty(claimed);
        Assert.All(claimed, j => Assert.NotEqual(failed.MachineName, j.MachineName));
        var run = await lab.RunAsync(pushed.RunId);
        var retry = Assert.Single(run.Jobs, j => j.Variant == failed.Variant && j.Attempt == 2);
        Assert.NotEqual(failed.MachineName, retry.Machine);
        Assert.Contains(claimed, j => j.JobId == retry.Id);

        using var client = lab.Client();
        var machines = (await client.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!;
        var view = Assert.Single(machines, m => m.Agent == "health-" + tag && m.Name == failed.MachineName);
        Assert.Equal((MachineHealth.Unknown, true), (view.Health, view.HealthCheckRequested));
        var due = (await agent.GetFromJsonAsync<HealthChecksDue>("/api/agent/machines/health-checks", LabFixture.Json))!;
        Assert.Equal([failed.MachineName], due.Machines);

        // The check passes: the machine takes its queued jobs again.
        await agent.PostAsJsonAsync($"/api/agent/machines/{failed.MachineName}/health",
            new MachineHealthReport(MachineHealth.Good, "health check passed", ReferenceMs: 412), LabFixture.Json);
        var after = await LabFixture.NextJobAsync(agent, 10);
        Assert.Equal(failed.MachineName, after?.MachineName);
        var history = (await client.GetFromJsonAsync<List<MachineHealthEventView>>($"/api/machines/{view.Id}/health", LabFixture.Json))!;
        Assert.Equal([MachineHealth.Good, MachineHealth.Unknown], history.Select(h => h.Health));
        Assert.Equal(412, history[0].ReferenceMs);
    }

    [Fact]
    public async Task Report_HealthOnlyAnAdminSets_400AndOtherAgentsMachine_404()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("health-" + tag, ["x86_64", tag]);

        var maintenance = await agent.PostAsJsonAsync("/api/agent/machines/qemu-0/health", new MachineHealthReport(MachineHealth.Maintenance, "no"), LabFixture.Json);
        var stranger = await agent.PostAsJsonAsync("/api/agent/machines/not-mine/health", new MachineHealthReport(MachineHealth.Bad, "x"), LabFixture.Json);

        Assert.Equal(HttpStatusCode.BadRequest, maintenance.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
    }

    [Fact]
    public async Task Maintenance_SetByAdmin_MachineTakesNoJobsAndAgentCannotLiftIt()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("health-" + tag, ["x86_64", tag]);
        using var client = lab.Client();
        var id = (await client.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Agent == "health-" + tag).Id;

        var set = await client.PutAsJsonAsync($"/api/machines/{id}/health", new MachineHealthChange(MachineHealth.Maintenance, "new BIOS"), LabFixture.Json);
        await agent.PostAsJsonAsync("/api/agent/machines/qemu-0/health", new MachineHealthReport(MachineHealth.Good, "health check passed"), LabFixture.Json);
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));

        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        Assert.Null(await LabFixture.NextJobAsync(agent, 2));
        var view = (await client.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Id == id);
        Assert.Equal(MachineHealth.Maintenance, view.Health);
    }

    [Fact]
    public async Task ChangeHealthAndRequestCheck_DeveloperOrViewer_403AdminSucceeds()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        await lab.EnrolAsync("health-" + tag, ["x86_64", tag]);
        using var admin = lab.Client();
        var id = (await admin.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Agent == "health-" + tag).Id;
        using var developer = lab.Client(await lab.UserTokenAsync("dev-" + tag, Roles.Developer));
        using var viewer = lab.Client(await lab.UserTokenAsync("viewer-" + tag, Roles.Viewer));
        var change = new MachineHealthChange(MachineHealth.Maintenance, "mine now");

        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PutAsJsonAsync($"/api/machines/{id}/health", change, LabFixture.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PostAsync($"/api/machines/{id}/health-check", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsJsonAsync($"/api/machines/{id}/health", change, LabFixture.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/machines")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/machines/{id}/health")).StatusCode);
        Assert.Equal(MachineHealth.Unknown, (await admin.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Id == id).Health);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/machines/{id}/health-check", null)).StatusCode);
    }

    [Fact]
    public async Task Report_FingerprintChanges_MachineDrifted()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("health-" + tag, ["x86_64", tag]);
        var url = "/api/agent/machines/qemu-0/health";

        await agent.PostAsJsonAsync(url, new MachineHealthReport(MachineHealth.Good, "ok", Fingerprint: new Dictionary<string, string> { ["firmware"] = "1.0" }), LabFixture.Json);
        await agent.PostAsJsonAsync(url, new MachineHealthReport(MachineHealth.Good, "ok", Fingerprint: new Dictionary<string, string> { ["firmware"] = "1.1" }), LabFixture.Json);

        using var client = lab.Client();
        var view = (await client.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Agent == "health-" + tag);
        Assert.True(view.Drifted);
        Assert.Contains("fingerprint changed", view.HealthReason, StringComparison.Ordinal);
        Assert.Equal("1.1", view.Fingerprint!["firmware"]);
    }

    [Fact]
    public async Task BootReport_FingerprintChangesBetweenJobs_DriftedAndEarlierBootsNotComparable()
    {
        var tag = "h" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync("health-" + tag, ["x86_64", tag]);
        var before = new Dictionary<string, string> { ["firmware"] = "AMI 1.0", ["tsc_mhz"] = "2994" };
        var noise = new Dictionary<string, string> { ["firmware"] = "AMI 1.0", ["tsc_mhz"] = "3001" };
        var after = new Dictionary<string, string> { ["firmware"] = "AMI 1.1", ["tsc_mhz"] = "3001" };
        var bootTimes = new List<DateTimeOffset>();
        foreach (var fingerprint in new[] { before, noise, after })
        {
            await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag)));
            var job = (await LabFixture.NextJobAsync(agent, 10))!;
            // Whole seconds: PostgreSQL keeps microseconds, the comparison below must not depend on it.
            var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).AddMinutes(bootTimes.Count - 10);
            var boot = AgentJobsApiTests.Boot(0, Outcome.Passed, "entry", "kmain-done") with { Fingerprint = fingerprint, StartedAt = at, EndedAt = at.AddSeconds(2) };
            bootTimes.Add(boot.StartedAt);
            Assert.Equal(HttpStatusCode.NoContent, (await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/boots/0", boot, LabFixture.Json)).StatusCode);
            await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.Passed, null), LabFixture.Json);
        }

        using var client = lab.Client();
        var view = (await client.GetFromJsonAsync<List<MachineView>>("/api/machines", LabFixture.Json))!.Single(m => m.Agent == "health-" + tag);
        Assert.True(view.Drifted);
        Assert.Equal("AMI 1.1", view.Fingerprint!["firmware"]);
        var history = (await client.GetFromJsonAsync<List<MachineHealthEventView>>($"/api/machines/{view.Id}/health", LabFixture.Json))!;
        // The TSC's calibration noise (2994 -> 3001 MHz) is not a change; the firmware is.
        var change = Assert.Single(history, e => e.Reason.StartsWith("fingerprint changed", StringComparison.Ordinal));
        Assert.Contains("firmware: AMI 1.0 -> AMI 1.1", change.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("tsc_mhz", change.Reason, StringComparison.Ordinal);
        await using var scope = lab.Scope();
        var db = scope.ServiceProvider.GetRequiredService<Server.Data.LabDbContext>();
        Assert.Equal(bootTimes[2], (await db.Machines.SingleAsync(m => m.Id == view.Id)).ComparableSince);
    }

    [Theory]
    [InlineData("{\"firmware\":\"1.0\",\"tsc_mhz\":\"3000\"}", "1.0", "3050", null)]
    [InlineData("{\"firmware\":\"1.0\",\"tsc_mhz\":\"3000\"}", "1.0", "3500", "tsc_mhz: 3000 -> 3500")]
    [InlineData("{\"firmware\":\"1.0\"}", "1.1", "3000", "firmware: 1.0 -> 1.1")]
    [InlineData("{\"cpu\":\"EPYC\"}", "1.0", "3000", null)]
    [InlineData("not json", "1.0", "3000", null)]
    public void FingerprintChange_BeyondTscNoise_Named(string old, string firmware, string tsc, string? expected)
    {
        Assert.Equal(expected, MachineHealthService.FingerprintChange(old, new Dictionary<string, string> { ["firmware"] = firmware, ["tsc_mhz"] = tsc }));
    }

    [Fact]
    public void MergeFingerprint_BootThatSawLess_KeepsWhatItDidNotSee()
    {
        var stored = MachineHealthService.MergeFingerprint(null, new Dictionary<string, string> { ["cpu"] = "EPYC 7702", ["microcode"] = "0x830107a", ["tsc_mhz"] = "2000" });

        // A kernel that printed no machine marker (Linux, or one that stopped early): no change, nothing forgotten.
        var partial = new Dictionary<string, string> { ["tsc_mhz"] = "2001", ["memory"] = "8192 MiB" };
        Assert.Null(MachineHealthService.FingerprintChange(stored, partial));
        Assert.Equal("{\"cpu\":\"EPYC 7702\",\"memory\":\"8192 MiB\",\"microcode\":\"0x830107a\",\"tsc_mhz\":\"2001\"}", MachineHealthService.MergeFingerprint(stored, partial));
        // A microcode update is a change.
        Assert.Equal("microcode: 0x830107a -> 0x830107b", MachineHealthService.FingerprintChange(stored, new Dictionary<string, string> { ["microcode"] = "0x830107b" }));
    }

    [Theory]
    [InlineData(new double[] { 100, 101, 99, 100, 102 }, 100.5, false)]
    [InlineData(new double[] { 100, 101, 99, 100, 102 }, 130, true)]
    [InlineData(new double[] { 100, 100, 100, 100, 100 }, 100.5, false)]
    [InlineData(new double[] { 100, 101, 99 }, 500, false)]
    public void IsDrift_AgainstNoiseOfHistory(double[] history, double metric, bool drifted)
    {
        Assert.Equal(drifted, MachineHealthService.IsDrift(history, metric) is not null);
    }
}
