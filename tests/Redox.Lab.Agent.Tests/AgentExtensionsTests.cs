using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Jobs;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Tests;

public sealed class AgentExtensionsTests
{
    [Fact]
    public void AddAgent_NoMachinesConfigured_OneQemuMachineAndEveryServiceResolves()
    {
        using var services = Build(new Dictionary<string, string?> { ["Agent:Server"] = "http://127.0.0.1:5080" });

        var pool = services.GetRequiredService<MachinePool>();
        var machine = Assert.Single(pool.Infos);
        Assert.Equal(("qemu-0", "qemu", 1, 256), (machine.Name, machine.Driver, machine.Cpus, machine.MemoryMiB));
        Assert.Equal(["qemu", "x86_64"], machine.Tags);
        // The job loop and the health checker (idle without Agent:HealthCheck:Pipeline); no network boot services without PCs.
        Assert.Equal(["AgentWorker", "HealthChecker"], services.GetServices<IHostedService>().Select(s => s.GetType().Name).Order());
        Assert.Equal(Environment.MachineName, services.GetRequiredService<IOptions<AgentOptions>>().Value.Name);
    }

    [Fact]
    public void AddAgent_MachinesConfigured_TakenAsGiven()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["Agent:Server"] = "http://127.0.0.1:5080",
            ["Agent:Machines:0:Name"] = "big",
            ["Agent:Machines:0:Tags:0"] = "smp",
            ["Agent:Machines:0:Cpus"] = "4",
            ["Agent:Machines:1:Name"] = "small",
        });

        var infos = services.GetRequiredService<MachinePool>().Infos;

        Assert.Equal(["big", "small"], infos.Select(m => m.Name));
        Assert.Equal(["smp"], infos[0].Tags);
        Assert.Equal(4, infos[0].Cpus);
    }

    [Fact]
    public void AddAgent_ServerMissing_ValidationNamesTheKey()
    {
        using var services = Build(new Dictionary<string, string?>());

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AgentOptions>>().Value);

        Assert.Contains("Agent:Server", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddAgent_EnrolmentSecretFile_SecretReadFromFileAndEnvironmentScrubbed()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "secret-from-file\n");
        Environment.SetEnvironmentVariable("Agent__EnrolmentSecret", "secret-from-env");
        try
        {
            using var services = Build(new Dictionary<string, string?> { ["Agent:Server"] = "http://127.0.0.1:5080", ["Agent:EnrolmentSecretFile"] = file });

            Assert.Equal("secret-from-file", services.GetRequiredService<IOptions<AgentOptions>>().Value.EnrolmentSecret);
            Assert.Null(Environment.GetEnvironmentVariable("Agent__EnrolmentSecret"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("Agent__EnrolmentSecret", null);
            File.Delete(file);
        }
    }

    [Fact]
    public void AddAgent_EnrolmentSecretFileMissing_ErrorNamesTheKeyAndFile()
    {
        using var services = Build(new Dictionary<string, string?> { ["Agent:Server"] = "http://127.0.0.1:5080", ["Agent:EnrolmentSecretFile"] = "/nonexistent/secret" });

        var e = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<AgentOptions>>().Value);

        Assert.Contains("Agent:EnrolmentSecretFile", e.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/secret", e.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddAgent(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
