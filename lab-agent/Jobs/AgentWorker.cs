using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Jobs;

/// <summary>
/// The agent's main loop: announce the machines, then long-poll for jobs while a machine is idle and
/// run each job on its machine. Stopping the agent cancels the running jobs, which power their
/// machines off and report infra-error within <see cref="AgentOptions.ShutdownGrace"/>.
/// </summary>
public sealed class AgentWorker(
    LabServerClient server,
    MachinePool machines,
    JobRunner runner,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<AgentWorker> log,
    SpoolDrainer? spools = null) : BackgroundService
{
    /// <summary>Pause after a poll failure the long-poll pipeline does not retry (a 4xx, a bad answer).</summary>
    public static readonly TimeSpan PollErrorDelay = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ClearStaleWorkDirs();
        // Results an earlier process could not upload (Server/SPOOL.md) go up in the background, before any new job.
        if (spools?.ResumeAll() is > 0 and var resumed)
            log.LogWarning("Resumed {Count} job spools left by an earlier agent process", resumed);
        var running = new List<Task>();
        try
        {
            await AnnounceMachinesAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var capacity = await machines.ReserveCapacityAsync(stoppingToken);
                JobAssignment? job;
                try
                {
                    job = await server.NextJobAsync(stoppingToken);
                }
                catch (Exception e) when (e is not (OperationCanceledException or AgentAuthException))
                {
                    capacity.Dispose();
                    log.LogWarning("Polling for jobs failed, trying again in {Delay}: {Error}", PollErrorDelay, e.Message);
                    await Task.Delay(PollErrorDelay, time, stoppingToken);
                    continue;
                }
                catch
                {
                    capacity.Dispose();
                    throw;
                }

                if (job is null)
                {
                    capacity.Dispose();
                    continue;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(RunJobAsync(job, capacity, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.LogInformation("Agent stopping");
        }
        finally
        {
            await Task.WhenAll(running);
        }
    }

    private async Task AnnounceMachinesAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await server.PutMachinesAsync(machines.Infos, cancellationToken);
                log.LogInformation("Agent {Name} serving {Machines} for {Server}", options.Value.Name,
                    string.Join(", ", machines.Infos.Select(m => $"{m.Name} [{string.Join(',', m.Tags)}]")), options.Value.Server);
                return;
            }
            catch (Exception e) when (e is not (OperationCanceledException or AgentAuthException))
            {
                log.LogWarning("Cannot reach the server at {Server}, trying again in {Delay}: {Error}", options.Value.Server, PollErrorDelay, e.Message);
                await Task.Delay(PollErrorDelay, time, cancellationToken);
            }
        }
    }

    private async Task RunJobAsync(JobAssignment job, IDisposable capacity, CancellationToken stoppingToken)
    {
        using (capacity)
        {
            await Task.Yield();
            try
            {
                var machine = machines.Find(job.MachineName);
                if (machine is null)
                {
                    log.LogError("Job {Job} is for machine {Machine}, which this agent does not have", job.JobId, job.MachineName);
                    await server.CompleteAsync(job.JobId, new JobCompletion(Outcome.InfraError, $"agent {options.Value.Name} has no machine '{job.MachineName}'"), stoppingToken);
                    return;
                }

                using var held = await AcquireAsync(job, machine, stoppingToken);
                if (held is null)
                    return;
                log.LogInformation("Job {Job}: {Commit} variant {Variant} on {Machine}", job.JobId, job.Commit, job.Variant, machine.Info.Name);
                await runner.RunAsync(job, machine, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A job must never take the agent down; the server's lease expiry settles this one.
                log.LogError(e, "Job {Job} failed in the agent", job.JobId);
            }
            catch (OperationCanceledException)
            {
                // Stopping before the job started: the lease expiry gives it to another agent.
            }
        }
    }

    /// <summary>
    /// The job's machine, once it is idle. A job that waits for a busy machine (MachinePool.AcquireAsync says
    /// why the server may hand one out) keeps its lease meanwhile: without heartbeats the server would fail it
    /// as agent-lost while the agent holds it. Null when the server said stop while it waited (the job was
    /// cancelled or already ended): there is nothing left to run or report.
    /// </summary>
    private async Task<IDisposable?> AcquireAsync(JobAssignment job, IMachine machine, CancellationToken stoppingToken)
    {
        if (machines.TryAcquire(machine) is { } idle)
            return idle;
        log.LogInformation("Job {Job}: machine {Machine} is still busy; the job waits for it, heartbeating", job.JobId, machine.Info.Name);
        await using var heartbeat = new JobHeartbeat(server, job.JobId, job.LeaseSeconds, time, log);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, heartbeat.Stopped);
        try
        {
            return await machines.AcquireAsync(machine, waiting.Token);
        }
        catch (OperationCanceledException) when (heartbeat.StoppedByServer && !stoppingToken.IsCancellationRequested)
        {
            log.LogWarning("Job {Job}: the server stopped it while it waited for {Machine}", job.JobId, machine.Info.Name);
            return null;
        }
    }

    private void ClearStaleWorkDirs()
    {
        // Left by a crash: no job runs yet, so everything here is garbage.
        var root = options.Value.WorkRoot;
        if (!Directory.Exists(root))
            return;
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Could not delete stale work directory {Dir}: {Error}", dir, e.Message);
            }
        }
    }
}
