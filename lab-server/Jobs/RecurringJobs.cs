using Hangfire;

namespace Redox.Lab.Server.Jobs;

/// <summary>Registers the recurring jobs once the database answers (a server may start before its database).</summary>
internal sealed class RecurringJobs(IRecurringJobManager recurring, ILogger<RecurringJobs> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                recurring.AddOrUpdate<FailLostJobsJob>(
                    FailLostJobsJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    FailLostJobsJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<ScheduleStalledRunsJob>(
                    ScheduleStalledRunsJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    ScheduleStalledRunsJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<Verdicts.JudgeEndedRunsJob>(
                    Verdicts.JudgeEndedRunsJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    Verdicts.JudgeEndedRunsJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<Verdicts.CalibrateMachinesJob>(
                    Verdicts.CalibrateMachinesJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    Verdicts.CalibrateMachinesJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<ConsoleStorage.CompactConsoleJob>(
                    ConsoleStorage.CompactConsoleJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    ConsoleStorage.CompactConsoleJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<ConsoleStorage.PruneRetentionJob>(
                    ConsoleStorage.PruneRetentionJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    ConsoleStorage.PruneRetentionJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                recurring.AddOrUpdate<ExpireQueuedJobsJob>(
                    ExpireQueuedJobsJob.RecurringId, "default", job => job.RunAsync(CancellationToken.None),
                    ExpireQueuedJobsJob.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Cannot register the recurring jobs yet; retrying");
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
