using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Server.Data;

/// <summary>The lab's schema. Migrations live in the Redox.Lab.Migrations assembly; Hangfire's schema is not modelled.</summary>
public sealed class LabDbContext(DbContextOptions<LabDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public const string MigrationsAssembly = "Redox.Lab.Migrations";

    public DbSet<RepositoryRow> Repositories => Set<RepositoryRow>();
    public DbSet<RunRow> Runs => Set<RunRow>();
    /// <summary>ASP.NET Core's data-protection key ring, shared by every server (cookies, antiforgery).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<JobRow> Jobs => Set<JobRow>();
    public DbSet<AgentRow> Agents => Set<AgentRow>();
    public DbSet<MachineRow> Machines => Set<MachineRow>();
    public DbSet<BootRow> Boots => Set<BootRow>();
    public DbSet<BootStageRow> BootStages => Set<BootStageRow>();
    public DbSet<MetricRow> Metrics => Set<MetricRow>();
    public DbSet<TestResultRow> TestResults => Set<TestResultRow>();
    public DbSet<FindingRow> Findings => Set<FindingRow>();
    public DbSet<ConsoleLineRow> ConsoleLines => Set<ConsoleLineRow>();
    public DbSet<ProfileRow> Profiles => Set<ProfileRow>();
    public DbSet<ArtifactRow> Artifacts => Set<ArtifactRow>();
    public DbSet<Machines.MachineHealthEventRow> MachineHealthEvents => Set<Machines.MachineHealthEventRow>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<Outcome>().HaveConversion<OutcomeConverter>().HaveMaxLength(32);
        // Everything a kernel prints can reach a text column (details, test details, profiles), and
        // PostgreSQL text cannot hold NUL: store it as U+FFFD, as undecodable console bytes already are.
        configurationBuilder.Properties<string>().HaveConversion<NulFreeTextConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RepositoryRow>(e =>
        {
            e.ToTable("repositories");
            e.HasIndex(r => r.Url).IsUnique();
            e.HasIndex(r => r.Name).IsUnique();
            e.Property(r => r.Name).HasMaxLength(100);
            e.Property(r => r.PipelineFiles).HasColumnType("text[]");
            e.Property(r => r.Pushers).HasColumnType("text[]");
        });

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

        modelBuilder.Entity<RunRow>(e =>
        {
            e.ToTable("runs");
            e.HasOne(r => r.Repository).WithMany().HasForeignKey(r => r.RepositoryId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(r => r.CreatedAt);
            // The dashboard: a branch's runs over commits (charts), the newest run per repository and branch (overview).
            e.HasIndex(r => new { r.PipelinePath, r.Branch, r.CreatedAt });
            e.HasIndex(r => new { r.RepositoryId, r.Branch, r.CreatedAt });
            e.Property(r => r.Commit).HasMaxLength(64);
            e.HasOne<Identity.UserRow>().WithMany().HasForeignKey(r => r.PushedBy).OnDelete(DeleteBehavior.SetNull);
            e.Property(r => r.Kind).HasMaxLength(16).HasDefaultValue(RunKinds.Push);
            e.HasOne<RunRow>().WithMany().HasForeignKey(r => r.ParentRunId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<MachineRow>().WithMany().HasForeignKey(r => r.OnlyMachineId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(r => new { r.RepositoryId, r.Commit, r.PipelinePath });
            e.HasIndex(r => r.EndedAt).HasFilter("judged_at IS NULL");
            e.HasOne<Identity.UserRow>().WithMany().HasForeignKey(r => r.CancelledBy).OnDelete(DeleteBehavior.SetNull);
            // Pushes still waiting for git (stalled-run recovery looks them up).
            e.HasIndex(r => r.CreatedAt, "ix_runs_resolving").HasFilter("resolving");
        });

        modelBuilder.Entity<JobRow>(e =>
        {
            e.ToTable("jobs");
            e.HasOne(j => j.Run).WithMany(r => r.Jobs).HasForeignKey(j => j.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne(j => j.Machine).WithMany().HasForeignKey(j => j.MachineId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(j => j.Agent).WithMany().HasForeignKey(j => j.AgentId).OnDelete(DeleteBehavior.SetNull);
            e.Property(j => j.State).HasMaxLength(16);
            // CreateJobsForRunJob and JobRetries rely on this to be idempotent (INSERT ... ON CONFLICT DO NOTHING).
            e.HasIndex(j => new { j.RunId, j.Variant, j.MachineId, j.Attempt }).IsUnique();
            e.HasIndex(j => new { j.State, j.CreatedAt });
            // The dashboard's machines page: each machine's latest jobs.
            e.HasIndex(j => new { j.MachineId, j.CreatedAt });
        });

        modelBuilder.Entity<AgentRow>(e =>
        {
            e.ToTable("agents");
            e.HasIndex(a => a.Name).IsUnique();
            e.HasIndex(a => a.TokenHash).IsUnique();
        });

        modelBuilder.Entity<MachineRow>(e =>
        {
            e.ToTable("machines");
            e.HasOne(m => m.Agent).WithMany(a => a.Machines).HasForeignKey(m => m.AgentId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(m => new { m.AgentId, m.Name }).IsUnique();
            e.Property(m => m.Tags).HasColumnType("text[]");
            e.Property(m => m.MemoryMiB).HasColumnName("memory_mib");
            e.Property(m => m.Health).HasDefaultValue("unknown");
            e.Property(m => m.Fingerprint).HasColumnType("jsonb");
        });
        modelBuilder.ApplyConfiguration(new Machines.MachineHealthEventConfiguration());

        modelBuilder.Entity<BootRow>(e =>
        {
            e.ToTable("boots");
            e.HasOne<JobRow>().WithMany(j => j.Boots).HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.JobId, x.Index }).IsUnique();
        });

        modelBuilder.Entity<BootStageRow>(e =>
        {
            e.ToTable("boot_stages");
            e.HasOne<BootRow>().WithMany(x => x.Stages).HasForeignKey(x => x.BootId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<MetricRow>(e =>
        {
            e.ToTable("metrics");
            e.HasOne<BootRow>().WithMany(x => x.Metrics).HasForeignKey(x => x.BootId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<TestResultRow>(e =>
        {
            e.ToTable("test_results");
            e.HasOne<BootRow>().WithMany(x => x.Tests).HasForeignKey(x => x.BootId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<FindingRow>(e =>
        {
            e.ToTable("findings");
            e.HasOne<BootRow>().WithMany(x => x.Findings).HasForeignKey(x => x.BootId).OnDelete(DeleteBehavior.Cascade);
            e.Property(x => x.Fields).HasColumnType("jsonb");
            e.HasOne<Findings.BugRow>().WithMany().HasForeignKey(x => x.BugId).OnDelete(DeleteBehavior.SetNull);
            e.HasIndex(x => x.BugId);
        });

        modelBuilder.Entity<ConsoleLineRow>(e =>
        {
            e.ToTable("console_lines");
            e.HasKey(x => new { x.JobId, x.LineNo });
            e.HasOne<JobRow>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ProfileRow>(e =>
        {
            e.ToTable("profiles");
            e.HasKey(x => x.BootId);
            e.HasOne<BootRow>().WithOne(b => b.Profile).HasForeignKey<ProfileRow>(x => x.BootId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.ApplyConfiguration(new Profiles.ImportedProfileConfiguration());

        modelBuilder.Entity<ArtifactRow>(e =>
        {
            e.ToTable("artifacts");
            // The upload is an upsert on this key: the same name again replaces the content.
            e.HasKey(x => new { x.JobId, x.Name });
            e.HasOne<JobRow>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
            e.Property(x => x.Name).HasMaxLength(100);
            e.Property(x => x.Sha256).HasMaxLength(64);
            // The artifact sweep asks which files rows still name (Artifacts/ArtifactSweep).
            e.HasIndex(x => x.Sha256);
        });

        // The feature folders' own tables (Findings/, Verdicts/, Bisection/).
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(LabDbContext).Assembly);

        // snake_case everywhere, so hand-written SQL (claims, COPY) reads naturally.
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                if (property.GetColumnName() == property.Name)
                    property.SetColumnName(SnakeCase(property.Name));
            }
            foreach (var key in entity.GetKeys()) key.SetName(SnakeCase(key.GetName()!));
            foreach (var fk in entity.GetForeignKeys()) fk.SetConstraintName(SnakeCase(fk.GetConstraintName()!));
            foreach (var index in entity.GetIndexes()) index.SetDatabaseName(SnakeCase(index.GetDatabaseName()!));
        }
    }

    internal static string SnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_' && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                    sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    internal sealed class OutcomeConverter() : ValueConverter<Outcome, string>(o => o.ToName(), s => OutcomeParsing.Parse(s));
}

/// <summary>Reads stored outcome names; an unknown name (a newer server wrote it) reads as pending.</summary>
public static class OutcomeParsing
{
    public static Outcome Parse(string name) => OutcomeNames.TryParse(name, out var o) ? o : Outcome.Pending;
}

/// <summary>Maps NUL to U+FFFD on the way into PostgreSQL; reads back unchanged.</summary>
internal sealed class NulFreeTextConverter() : ValueConverter<string, string>(
    v => AgentText.Storable(v),
    v => v);
