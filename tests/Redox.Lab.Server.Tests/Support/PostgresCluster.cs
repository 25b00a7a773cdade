using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL started with scripts/pg-local.sh on a free loopback port; stopped and deleted on dispose.
/// The lab connects as the non-superuser role <c>lab</c> with a SCRAM password from the cluster's password file
/// (<c>Passfile=</c> in the connection string). Mode <c>throwaway</c>: fsync on, synchronous_commit off (see the script).
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string _dataDir;

    private PostgresCluster(string dataDir, string adminConnectionString)
    {
        _dataDir = dataDir;
        AdminConnectionString = adminConnectionString;
    }

    /// <summary>Connection string to the <c>postgres</c> database.</summary>
    public string AdminConnectionString { get; }

    public static async Task<PostgresCluster> StartAsync(string dataDir)
    {
        var cs = await Repo.RunAsync("bash", null, Path.Combine(Repo.Root, "scripts", "pg-local.sh"), "start", dataDir, FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "throwaway");
        return new PostgresCluster(dataDir, cs.Split('\n').Last().Trim());
    }

    /// <summary>A connection string to a database of that name (which may not exist yet).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = database }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await Repo.RunAsync("bash", null, Path.Combine(Repo.Root, "scripts", "pg-local.sh"), "stop", _dataDir);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
