using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Dashboard.Pages.Machines;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Dashboard;

/// <summary>Agents and their machines, each machine's running job and its last jobs (index <c>jobs (machine_id, created_at)</c>).</summary>
public sealed class MachinesQuery(LabDbContext db, TimeProvider clock, IOptions<LabOptions> options) : IMachinesQuery
{
    /// <summary>Jobs listed per machine.</summary>
    public const int RecentJobs = 8;

    /// <summary>An agent silent for longer than this is offline (it long-polls and heartbeats far more often); the scheduler's window (Lab:AgentOfflineSeconds): a machine shown offline gets no new jobs.</summary>
    public TimeSpan OnlineWindow => options.Value.AgentOffline;

    public async Task<MachinesModel> GetAsync(CancellationToken ct)
    {
        var machines = await ListAsync(includeRetired: true, RecentJobs, ct);
        var online = clock.GetUtcNow() - OnlineWindow;
        var agents = await db.Agents.AsNoTracking()
            .OrderBy(a => a.Name)
            .Select(a => new AgentItem(a.Id, a.Name, a.Version, a.CreatedAt, a.LastSeen, a.LastSeen >= online, a.Machines.Count(m => m.Active)))
            .ToListAsync(ct);
        return new MachinesModel(agents, machines);
    }

    internal async Task<List<MachineItem>> ListAsync(bool includeRetired, int recent, CancellationToken ct)
    {
        var rows = await db.Machines.AsNoTracking()
            .Where(m => includeRetired || m.Active)
            .OrderBy(m => m.Agent.Name).ThenBy(m => m.Name)
            .Select(m => new { m.Id, Agent = m.Agent.Name, m.Name, m.Driver, m.Tags, m.Cpus, m.MemoryMiB, m.Active, m.Agent.LastSeen, m.Health, m.HealthReason, m.HealthCheckRequested, m.Drifted })
            .ToListAsync(ct);
        var ids = rows.Select(m => m.Id).ToList();

        var running = (await db.Jobs.AsNoTracking()
                .Where(j => j.State == JobStates.Running && ids.Contains(j.MachineId))
                .Select(j => new { j.MachineId, Job = new MachineJob(j.Id, j.RunId, j.Run.Commit, j.Run.Branch, j.Variant, j.Outcome, j.Detail, j.CreatedAt, j.EndedAt) })
                .ToListAsync(ct))
            .GroupBy(j => j.MachineId).ToDictionary(g => g.Key, g => g.First().Job);

        // The last jobs of each machine: one small indexed query per machine (a handful of machines).
        var recentJobs = new Dictionary<Guid, List<MachineJob>>();
        var health = new Dictionary<Guid, List<HealthEvent>>();
        if (recent > 0)
        {
            foreach (var id in ids)
            {
                health[id] = await db.MachineHealthEvents.AsNoTracking()
                    .Where(e => e.MachineId == id)
                    .OrderByDescending(e => e.At).ThenByDescending(e => e.Id)
                    .Take(recent)
                    .Select(e => new HealthEvent(e.At, e.Health, e.Reason, e.Source))
                    .ToListAsync(ct);
                recentJobs[id] = await db.Jobs.AsNoTracking()
                    .Where(j => j.MachineId == id)
                    .OrderByDescending(j => j.CreatedAt)
                    .Take(recent)
                    .Select(j => new MachineJob(j.Id, j.RunId, j.Run.Commit, j.Run.Branch, j.Variant, j.Outcome, j.Detail, j.CreatedAt, j.EndedAt))
                    .ToListAsync(ct);
            }
        }

        var online = clock.GetUtcNow() - OnlineWindow;
        return rows.Select(m => new MachineItem(
            m.Id, m.Agent, m.Name, m.Driver, m.Tags, m.Cpus, m.MemoryMiB,
            !m.Active ? MachineStates.Retired
            : running.ContainsKey(m.Id) ? MachineStates.Busy
            : m.LastSeen >= online ? MachineStates.Idle
            : MachineStates.Offline,
            m.LastSeen, running.GetValueOrDefault(m.Id), recentJobs.GetValueOrDefault(m.Id) ?? [],
            m.Health, m.HealthReason, m.HealthCheckRequested, m.Drifted, health.GetValueOrDefault(m.Id) ?? [])).ToList();
    }
}
