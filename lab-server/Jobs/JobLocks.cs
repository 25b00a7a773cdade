using Microsoft.EntityFrameworkCore;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Jobs;

/// <summary>The job row lock that orders everything an agent reports about one job.</summary>
public static class JobLocks
{
    /// <summary>
    /// The job, tracked, locked FOR UPDATE until the current transaction ends: appends, boot reports, artifact
    /// uploads and the completion of one job run one after the other. Null for an unknown job.
    /// </summary>
    public static async Task<JobRow?> LockJobAsync(this LabDbContext db, Guid jobId, CancellationToken ct) =>
        (await db.Jobs.FromSql($"SELECT * FROM jobs WHERE id = {jobId} FOR UPDATE").ToListAsync(ct)).SingleOrDefault();
}
