using Redox.Lab.Agent;
using Redox.Lab.Agent.Cli;

// lab-agent [run] | init | check (README.md "Install"). appsettings.json sits beside the binary; the
// configuration file init writes (/etc/redox-lab/agent.json, or --config) is read when it exists.
var verb = args.FirstOrDefault() is "init" or "check" or "run" ? args[0] : "run";
var rest = verb == "run" && args.FirstOrDefault() != "run" ? args : args.Skip(1).ToArray();

IHost Build(string[] hostArgs)
{
    var config = AgentCommands.ConfigPath(hostArgs);
    var filtered = hostArgs.Where((a, i) => a != "--config" && (i == 0 || hostArgs[i - 1] != "--config")).ToArray();
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = filtered, ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.AddJsonFile(config, optional: true);
    builder.Configuration.AddCommandLine(filtered);
    builder.Services.AddAgent(builder.Configuration);
    return builder.Build();
}

return verb switch
{
    "init" => await AgentCommands.InitAsync(rest, Build),
    "check" => await AgentCommands.CheckAsync(Build(rest)),
    _ => await RunAsync(Build(rest)),
};

static async Task<int> RunAsync(IHost host)
{
    await host.RunAsync();
    return 0;
}
