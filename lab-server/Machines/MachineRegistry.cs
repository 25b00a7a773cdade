using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Machines;

/// <summary>An agent's machine list that cannot be stored (duplicate or empty names, silly sizes).</summary>
public sealed class InvalidMachinesException(string message) : Exception(message);

/// <summary>Replaces an agent's machine list. Machines it no longer lists are deactivated, not deleted: jobs refer to them.</summary>
public static class MachineRegistry
{
    public static void Validate(IReadOnlyList<MachineInfo> machines)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in machines)
        {
            if (string.IsNullOrWhiteSpace(m.Name)) throw new InvalidMachinesException("a machine has no name");
            if (!seen.Add(m.Name)) throw new InvalidMachinesException($"machine '{m.Name}' is listed twice");
            if (string.IsNullOrWhiteSpace(m.Driver)) throw new InvalidMachinesException($"machine '{m.Name}' has no driver");
            if (m.Cpus < 1 || m.MemoryMiB < 1) throw new InvalidMachinesException($"machine '{m.Name}' needs cpus >= 1 and memoryMiB >= 1");
            if (m.Tags.Any(string.IsNullOrWhiteSpace)) throw new InvalidMachinesException($"machine '{m.Name}' has an empty tag");
        }
    }

    /// <summary>Stages the changes on <paramref name="db"/>; the caller saves.</summary>
    public static async Task ReplaceAsync(LabDbContext db, Guid agentId, IReadOnlyList<MachineInfo> machines, CancellationToken ct)
    {
        Validate(machines);
        var existing = await db.Machines.Where(m => m.AgentId == agentId).ToListAsync(ct);
        foreach (var info in machines)
        {
            var row = existing.FirstOrDefault(m => m.Name == info.Name);
            if (row is null)
            {
                row = new MachineRow { Id = Guid.CreateVersion7(), AgentId = agentId, Name = info.Name, Driver = info.Driver };
                db.Machines.Add(row);
            }
            row.Driver = info.Driver;
            row.Tags = info.Tags.Select(t => t.Trim()).ToList();
            row.Cpus = info.Cpus;
            row.MemoryMiB = info.MemoryMiB;
            row.Active = true;
        }
        foreach (var gone in existing.Where(m => machines.All(i => i.Name != m.Name)))
            gone.Active = false;
    }
}
