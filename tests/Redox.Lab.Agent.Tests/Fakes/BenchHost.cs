using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Machines.Pc;
using Redox.Lab.Agent.Machines.Resilience;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>
/// The agent's bench services as the agent registers them (<c>AddBench</c>): the machines file, the
/// network boot services and the machine pipelines, started for one test.
/// </summary>
public sealed class BenchHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly BootNetwork _network;

    private BenchHost(ServiceProvider services)
    {
        _services = services;
        _network = services.GetRequiredService<BootNetwork>();
    }

    public IServiceProvider Services => _services;

    public BootDeliveries Deliveries => _services.GetRequiredService<BootDeliveries>();

    public BootHttpServer Http => _services.GetRequiredService<BootHttpServer>();

    public BootNetwork Network => _network;

    public static async Task<BenchHost> StartAsync(string stateDir, string machinesYaml, IDictionary<string, string?> settings, MachinePipelineSettings? pipelines = null, TimeProvider? time = null)
    {
        var file = Path.Combine(stateDir, "machines.yaml");
        Directory.CreateDirectory(stateDir);
        await File.WriteAllTextAsync(file, machinesYaml);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["Agent:StateDir"] = stateDir,
            ["Agent:MachinesFile"] = file,
            ["Agent:Server"] = "http://127.0.0.1:9",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            if (Environment.GetEnvironmentVariable("AGENT_TEST_LOG") == "1")
                b.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        });
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddOptions<AgentOptions>().Bind(config.GetSection(AgentOptions.Section));
        services.AddBench(config, pipelines);
        var provider = services.BuildServiceProvider();
        var host = new BenchHost(provider);
        await host._network.StartAsync(CancellationToken.None);
        return host;
    }

    public PcMachine Machine(string name) =>
        _services.GetRequiredService<PcFactory>().Create(_services.GetRequiredService<PcBench>().Find(name) ?? throw new ArgumentException(name));

    public async ValueTask DisposeAsync()
    {
        await _network.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
