using System.Globalization;

namespace Redox.Lab.Server.ConsoleStorage;

/// <summary>
/// Monthly partitions of the console tables (STORAGE.md). Both are partitioned by <c>RANGE (job_id)</c>: job ids are
/// UUIDv7 (<c>Guid.CreateVersion7</c>), whose first 48 bits are the creation time in Unix milliseconds and which
/// PostgreSQL compares byte by byte, so a month of jobs is one range of ids: the UUID of the month's first
/// millisecond with every other bit zero, up to the next month's. Ids that are not v7 land in the default partition.
/// </summary>
public static class Partitions
{
    public static readonly string[] Tables = ["console_lines", "console_chunks"];

    /// <summary>The smallest UUIDv7 of <paramref name="time"/>'s millisecond.</summary>
    public static string Bound(DateTimeOffset time)
    {
        var ms = time.ToUnixTimeMilliseconds().ToString("x12", CultureInfo.InvariantCulture);
        return $"{ms[..8]}-{ms[8..12]}-0000-0000-000000000000";
    }

    public static DateTimeOffset MonthStart(DateTimeOffset time) => new(time.Year, time.Month, 1, 0, 0, 0, TimeSpan.Zero);

    public static string Name(string table, DateTimeOffset month) => $"{table}_y{month:yyyy}m{month:MM}";

    /// <summary>The DDL creating <paramref name="table"/>'s partition for <paramref name="month"/> if it is missing.</summary>
    public static string CreateSql(string table, DateTimeOffset month)
    {
        month = MonthStart(month);
        return $"CREATE TABLE IF NOT EXISTS {Name(table, month)} PARTITION OF {table} FOR VALUES FROM ('{Bound(month)}') TO ('{Bound(month.AddMonths(1))}')";
    }
}
