using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Infrastructure;

namespace Redox.Lab.Server.Tests.Infrastructure;

public sealed class ProblemExceptionHandlerTests
{
    [Fact]
    public void Classify_BadRequest_400() =>
        Assert.Equal(400, ProblemExceptionHandler.Classify(new BadHttpRequestException("bad body")).Status);

    [Fact]
    public void Classify_DatabaseUnreachable_503() =>
        Assert.Equal(503, ProblemExceptionHandler.Classify(
            new InvalidOperationException("wrapped", new NpgsqlException("down", new SocketException()))).Status);

    [Fact]
    public void Classify_Bug_500() =>
        Assert.Equal(500, ProblemExceptionHandler.Classify(new InvalidOperationException("bug")).Status);

    [Theory]
    [InlineData("LeaseExpiresAt", "lease_expires_at")]
    [InlineData("TscHz", "tsc_hz")]
    [InlineData("PK_runs", "pk_runs")]
    [InlineData("IX_jobs_RunId_Variant_MachineId", "ix_jobs_run_id_variant_machine_id")]
    public void SnakeCase_Names_AsInTheSchema(string name, string expected) =>
        Assert.Equal(expected, LabDbContext.SnakeCase(name));
}
