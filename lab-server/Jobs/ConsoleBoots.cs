using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>
/// One boot's console counters (<c>console_boots</c>; boot -1 is the build output), kept beside the job's own
/// (<c>jobs.console_count/console_bytes/console_dropped</c>) so <see cref="ConsoleLimits"/> can cap each boot as well as
/// the job: a boot that floods loses its own later lines, not the next boots'. Written under the job's row lock.
/// </summary>
public sealed class ConsoleBootRow
{
    public Guid JobId { get; set; }
    public int Boot { get; set; }

    /// <summary>Lines stored for the boot (its limit marker not included).</summary>
    public long Lines { get; set; }

    /// <summary>UTF-8 bytes stored for the boot.</summary>
    public long Bytes { get; set; }

    /// <summary>The boot's lines past its own limit: counted, not stored (the first is replaced by a marker line).</summary>
    public long Dropped { get; set; }
}

internal sealed class ConsoleBootConfiguration : IEntityTypeConfiguration<ConsoleBootRow>
{
    public void Configure(EntityTypeBuilder<ConsoleBootRow> e)
    {
        e.ToTable("console_boots");
        e.HasKey(x => new { x.JobId, x.Boot });
        e.HasOne<JobRow>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
