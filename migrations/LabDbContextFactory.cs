using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Migrations;

/// <summary>Builds the context for the migrate command and for <c>dotnet ef</c> (which needs no database to add a migration).</summary>
public sealed class LabDbContextFactory : IDesignTimeDbContextFactory<LabDbContext>
{
    public LabDbContext CreateDbContext(string[] args) =>
        Create(Environment.GetEnvironmentVariable(MigrateCommand.EnvironmentVariable) ?? "Host=127.0.0.1;Database=lab;Username=lab");

    public static LabDbContext Create(string connectionString) =>
        new(new DbContextOptionsBuilder<LabDbContext>()
            .UseNpgsql(connectionString, n => n.MigrationsAssembly(LabDbContext.MigrationsAssembly))
            .Options);
}
