using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Machines;

/// <summary>One change (or confirmation) of a machine's health: the history the dashboard shows.</summary>
public sealed class MachineHealthEventRow
{
    public long Id { get; set; }
    public Guid MachineId { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Health { get; set; }
    public required string Reason { get; set; }
    /// <summary>agent, admin or server.</summary>
    public required string Source { get; set; }
    /// <summary>A health check's reference metric, for drift.</summary>
    public double? ReferenceMs { get; set; }
}

internal sealed class MachineHealthEventConfiguration : IEntityTypeConfiguration<MachineHealthEventRow>
{
    public void Configure(EntityTypeBuilder<MachineHealthEventRow> e)
    {
        e.ToTable("machine_health_events");
        e.HasOne<MachineRow>().WithMany().HasForeignKey(x => x.MachineId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.MachineId, x.At });
    }
}
