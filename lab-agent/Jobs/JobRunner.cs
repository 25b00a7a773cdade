using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Build;
using Redox.Lab.Agent.Console;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Agent.Jobs;

/// <summary>
/// Runs one job on one machine, from the assignment to the completion. The flow is a list of
/// numbered checkpoints; none of them is resumed after an agent crash: the server fails the job as
/// agent-lost when its lease runs out; a later attempt starts at (1) with a fresh work directory.
/// </summary>
public sealed class JobRunner(
    LabServerClient server,
    GitCheckout git,
    BuildRunner builder,
    BootRunner boots,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<JobRunner> log,
    Machines.Health.HealthChecker? health = null,
    SpoolDrainer? spools = null)
{
    private readonly SpoolDrainer _spools = spools ?? new SpoolDrainer(server, options, time, NullLogger<SpoolDrainer>.Instance);

    /// <summary>How long the final console flush and completion may take when the agent is not stopping.</summary>
    public static readonly TimeSpan FinalReportTimeout = TimeSpan.FromMinutes(2);

    public async Task<JobCompletion> RunAsync(JobAssignment job, IMachine machine, CancellationToken stopping)
    {
        var workDir = Path.Combine(options.Value.WorkRoot, job.JobId.ToString("N"));
        // The job's outbox (Server/SPOOL.md): console, artifacts, boot reports and the completion go to disk and
        // are uploaded in order whenever the server answers, so no checkpoint below waits on the server.
        var spool = _spools.Create(job.JobId);
        var console = spool.Console;

        // (1) Heartbeat. From here the server knows the agent is alive; the lease is renewed until the
        //     completion is sent. A continue=false answer cancels everything below.
        await using var heartbeat = new JobHeartbeat(server, job.JobId, job.LeaseSeconds, time, log);
        using var jobTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var jobCts = CancellationTokenSource.CreateLinkedTokenSource(stopping, heartbeat.Stopped, jobTimeout.Token);
        var ct = jobCts.Token;
        var phase = "pipeline";
        var timeout = TimeSpan.Zero;
        JobCompletion completion;
        try
        {
            // (2) Pipeline. The YAML is the one the server validated at push time; loading it is pure, so
            //     it comes first and job.timeout bounds every later checkpoint, the checkout included.
            var pipeline = PipelineLoader.Load(job.PipelineYaml, job.PipelinePath);
            var variant = pipeline.Variant(job.Variant);
            timeout = pipeline.JobTimeout;
            jobTimeout.CancelAfter(timeout);

            // (3) Checkout. Guaranteed after it: workDir holds exactly the commit, detached. Redone from
            //     scratch by every attempt (the directory is deleted first); the mirror is only fetched.
            phase = "checkout";
            await git.CheckoutAsync(job.Repository, job.Commit, workDir, ct);

            // (4) Build. Every output line is uploaded as boot -1 while it runs, so a failed build's log is
            //     on the server. Guaranteed after it: the image and the modules exist.
            phase = "build";
            var artifacts = await builder.RunAsync(
                pipeline, variant, workDir, line => console.Add(new ConsoleLine(-1, time.GetUtcNow(), line.Text)), ct, networkAllowed: job.Trusted);

            // (5) Symbols. The kernel ELF goes to the server before any boot, so a finding's backtrace and
            //     a profile can be symbolized as soon as they arrive. Re-sending replaces it (idempotent).
            if (artifacts.Elf is { } elf)
            {
                // An ELF the server refuses (over its limit, no symbols) loses the symbols, not the boots: the spool
                // writes the reason into the console instead of failing a job that could never upload it.
                phase = "artifact upload";
                spool.Artifact("kernel.elf", elf);
            }

            // (5b) The programs' symbol files (bootstrap.elf, ...), named after their files: they name user frames.
            foreach (var symbols in artifacts.Symbols)
            {
                spool.Artifact(Path.GetFileName(symbols).ToLowerInvariant(), symbols);
            }

            // (6) Boots, one after the other on the same machine. Each boot powers the machine on, reads and
            //     spools its console, and powers it off on every path out (the machine never outlives its
            //     boot). The report is spooled after the boot's console lines, whose indexes it points into;
            //     posting a report is idempotent by index, so a resent one replaces itself.
            var media = new BootMedia(artifacts.Image, artifacts.Modules, pipeline.Boot.Cmdline, pipeline.Boot.Method);
            var reports = new List<BootReport>();
            var bootCount = job.BootCount is > 0 and <= 100 ? job.BootCount.Value : pipeline.Boot.Count;
            for (var i = 0; i < bootCount; i++)
            {
                phase = $"boot {i}";
                var report = await boots.RunAsync(i, pipeline, variant.Machine, media, machine, console, ct);
                // Every boot tells the server what machine it ran on (drift: Machines/Health/README.md).
                if (report.Outcome.Kind() != OutcomeKind.Infrastructure)
                    report = report with { Fingerprint = Machines.Health.HealthChecker.Fingerprint(machine, report) };
                // Within the server's published limits, what is left out counted in the report (Server/SPOOL.md).
                report = BootReportFit.Fit(report, job.Limits ?? ReportLimits.Default);
                spool.Boot(report);
                reports.Add(report);
            }

            completion = Summarise(reports);
        }
        catch (OperationCanceledException) when (jobTimeout.IsCancellationRequested)
        {
            completion = new JobCompletion(Outcome.JobTimeout, $"job timeout ({timeout}) passed during {phase}");
        }
        catch (OperationCanceledException) when (heartbeat.StoppedByServer)
        {
            // The boot's machine is powered off on the way out of BootRunner (every path); the completion below
            // tells the server, which records the job as cancelled.
            completion = new JobCompletion(Outcome.Cancelled, heartbeat.CancelledByUser
                ? $"cancelled during {phase}; the machine was powered off"
                : $"the server stopped the job during {phase}");
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            completion = new JobCompletion(Outcome.InfraError, $"the agent stopped during {phase}");
        }
        catch (BuildFailedException e)
        {
            completion = new JobCompletion(Outcome.BuildFailed, e.Message);
        }
        catch (Exception e) when (e is PipelineException or KeyNotFoundException && phase == "pipeline")
        {
            // The server validated this file; a fault here is the commit's pipeline, not the lab.
            completion = new JobCompletion(Outcome.BuildFailed, $"pipeline: {e.Message}");
        }
        catch (Exception e)
        {
            log.LogError(e, "Job {Job}: lab failure during {Phase}", job.JobId, phase);
            completion = new JobCompletion(Outcome.InfraError, $"{phase}: {e.Message}");
        }

        // (6b) Health. A lab failure while booting makes the machine's health unknown, before the completion: the
        //      server then retries the job on a machine that takes jobs, and this one waits for a health check
        //      (when health checks are configured; without them it keeps taking jobs).
        if (completion.Outcome == Outcome.InfraError && phase.StartsWith("boot", StringComparison.Ordinal) && !stopping.IsCancellationRequested && health is not null)
        {
            health.Request(machine.Info.Name);
            using var report = new CancellationTokenSource(FinalReportTimeout, time);
            await health.ReportAsync(machine.Info.Name, new MachineHealthReport(MachineHealth.Unknown, $"infrastructure failure in job {job.JobId}: {completion.Detail}", RequestCheck: health.Enabled), report.Token);
        }

        // (7) Complete. Runs whatever happened above: the completion goes last into the spool, after every
        //     console line (so even a hung or garbled boot's log is kept), and the job waits, heartbeating
        //     and holding its machine, until the server has it all: through a server outage too, up to
        //     SpoolHold (a short grace when the agent is stopping). Past that the spool drains in the
        //     background, or after the agent's next start; the server takes late results from the job's holder.
        spool.Complete(completion);
        using (var final = new CancellationTokenSource(stopping.IsCancellationRequested ? options.Value.ShutdownGrace : options.Value.SpoolHold, time))
        {
            try
            {
                await spool.DrainAsync(final.Token);
            }
            catch (OperationCanceledException)
            {
                log.LogWarning("Job {Job}: the server does not have all its results yet ({Outcome}); they stay spooled in {Dir}", job.JobId, completion.Outcome.ToName(), spool.Directory);
            }
        }
        if (spool.Drained)
            await spool.DisposeAsync();
        else if (stopping.IsCancellationRequested)
            await spool.DisposeAsync(); // kept on disk for the next start
        else
            _spools.Adopt(spool);

        // (8) Cleanup. Only the work directory; the repository mirror stays for the next job.
        if (!options.Value.KeepWorkDirs)
            DeleteWorkDir(workDir);
        log.LogInformation("Job {Job}: {Outcome}: {Detail}", job.JobId, completion.Outcome.ToName(), completion.Detail);
        return completion;
    }

    /// <summary>The job's outcome is its worst boot's; passed only when every boot passed.</summary>
    public static JobCompletion Summarise(IReadOnlyList<BootReport> reports)
    {
        if (reports.Count == 0)
            return new JobCompletion(Outcome.InfraError, "no boot ran");
        var worst = reports.Aggregate(Outcome.Passed, (o, r) => OutcomeNames.Worst(o, r.Outcome));
        if (worst == Outcome.Passed)
            return new JobCompletion(Outcome.Passed, reports.Count == 1 ? "1 boot passed" : $"{reports.Count} boots passed");
        var first = reports.First(r => r.Outcome == worst);
        var count = reports.Count(r => r.Outcome == worst);
        var detail = $"boot {first.Index}: {worst.ToName()}" + (first.Detail is { } d ? $": {d}" : "");
        return new JobCompletion(worst, count > 1 ? $"{detail} ({count} of {reports.Count} boots)" : detail);
    }

    private void DeleteWorkDir(string workDir)
    {
        try
        {
            if (Directory.Exists(workDir))
                Directory.Delete(workDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("Could not delete {WorkDir}: {Error}", workDir, e.Message);
        }
    }
}
