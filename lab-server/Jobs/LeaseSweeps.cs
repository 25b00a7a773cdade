using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// When <see cref="FailLostJobsJob"/> last looked at the leases (one row, id 1). A lease only runs while the
/// lab watches it: when the last sweep is longer ago than <see cref="LabOptions.SweepGapSeconds"/>, the lab
/// itself was away (every server stopped, or PostgreSQL was), and no agent could have heartbeated; the sweep
/// then restarts the running jobs' leases instead of failing them, so an agent that kept working through the
/// outage (and spooled its results: lab-agent/Server/SPOOL.md) gets a whole lease to come back.
/// </summary>
public sealed class LeaseSweepRow
{
    public int Id { get; set; }
    public DateTimeOffset SweptAt { get; set; }
}

internal sealed class LeaseSweepConfiguration : IEntityTypeConfiguration<LeaseSweepRow>
{
    public void Configure(EntityTypeBuilder<LeaseSweepRow> e)
    {
        e.ToTable("lease_sweeps");
        e.HasKey(x => x.Id);
        e.Property(x => x.Id).ValueGeneratedNever();
    }
}
