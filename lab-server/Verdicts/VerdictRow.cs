using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Verdicts;

/// <summary>What a verdict is about.</summary>
public static class Subjects
{
    public const string Metric = "metric";
    public const string Stage = "stage";
    public const string Test = "test";
    public const string Bug = "bug";
    /// <summary>A lasting step in the default branch's history (change-point detection).</summary>
    public const string History = "history";
}

/// <summary>
/// One verdict of a run on one machine and variant: a metric, stage, test or bug, candidate against baseline.
/// Rewritten each time the run is judged again (after extra boots), so it always reflects every boot so far.
/// </summary>
public sealed class VerdictRow
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public Guid MachineId { get; set; }
    public required string Variant { get; set; }
    public required string Subject { get; set; }
    public required string Name { get; set; }
    /// <summary>regression, improvement, no-change, inconclusive; tests and bugs also known (failing on both sides).</summary>
    public required string Verdict { get; set; }
    public string? BaselineCommit { get; set; }
    public string? Unit { get; set; }
    /// <summary>lower or higher: which way is better.</summary>
    public string? Better { get; set; }
    public int BaselineCount { get; set; }
    public int CandidateCount { get; set; }
    public double? BaselineMedian { get; set; }
    public double? CandidateMedian { get; set; }
    public double? Shift { get; set; }
    public double? ShiftLow { get; set; }
    public double? ShiftHigh { get; set; }
    public double? P { get; set; }
    public double? Threshold { get; set; }
    /// <summary>pipeline, calibration or default: where the threshold came from.</summary>
    public string? ThresholdSource { get; set; }
    /// <summary>Rounds of extra boots this verdict asked for.</summary>
    public int Rounds { get; set; }
    public string? Detail { get; set; }
    public Guid? BugId { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class VerdictRowConfiguration : IEntityTypeConfiguration<VerdictRow>
{
    public void Configure(EntityTypeBuilder<VerdictRow> e)
    {
        e.ToTable("verdicts");
        e.HasOne<RunRow>().WithMany().HasForeignKey(v => v.RunId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<MachineRow>().WithMany().HasForeignKey(v => v.MachineId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(v => new { v.RunId, v.MachineId, v.Variant, v.Subject, v.Name }).IsUnique();
        e.HasIndex(v => new { v.Verdict, v.UpdatedAt });
        e.Property(v => v.Verdict).HasMaxLength(16);
        e.Property(v => v.Subject).HasMaxLength(16);
    }
}

/// <summary>
/// One A/A comparison (the same commit against itself on one machine) for one metric: whether the verdict
/// wrongly said regression or improvement, its relative shift, and the boot-to-boot noise it saw.
/// </summary>
public sealed class CalibrationRow
{
    public long Id { get; set; }
    /// <summary>The second run of the pair (kind calibration); its parent is the first.</summary>
    public Guid RunId { get; set; }
    public Guid MachineId { get; set; }
    public required string PipelinePath { get; set; }
    public required string Variant { get; set; }
    public required string Subject { get; set; }
    public required string Name { get; set; }
    public required string Verdict { get; set; }
    public bool FalsePositive { get; set; }
    public double RelativeShift { get; set; }
    /// <summary>Relative spread of the pooled samples (Pragmastat's RelSpread): the metric's boot-to-boot noise.</summary>
    public double Noise { get; set; }
    public int Samples { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class CalibrationRowConfiguration : IEntityTypeConfiguration<CalibrationRow>
{
    public void Configure(EntityTypeBuilder<CalibrationRow> e)
    {
        e.ToTable("calibrations");
        e.HasOne<RunRow>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<MachineRow>().WithMany().HasForeignKey(c => c.MachineId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(c => new { c.RunId, c.Variant, c.Subject, c.Name }).IsUnique();
        e.HasIndex(c => new { c.MachineId, c.PipelinePath, c.Variant, c.Subject, c.Name });
    }
}
