using System.Net.NetworkInformation;
using Polly.Registry;
using Redox.Lab.Agent.Boot;
using Redox.Lab.Agent.Machines.Consoles;
using Redox.Lab.Agent.Machines.Power;
using Redox.Lab.Agent.Machines.Resilience;

namespace Redox.Lab.Agent.Machines.Pc;

/// <summary>The bench of real PCs from the machines file (<c>Agent:MachinesFile</c>), loaded and validated at start.</summary>
public sealed class PcBench(IReadOnlyList<PcSpec> machines)
{
    public IReadOnlyList<PcSpec> Machines { get; } = machines;

    public PcSpec? Find(string name) => Machines.FirstOrDefault(m => m.Name == name);
}

/// <summary>Builds <see cref="PcMachine"/>s: each spec's power control, console link and pipelines.</summary>
public sealed class PcFactory(
    BootDeliveries deliveries,
    ResiliencePipelineProvider<MachinePipelineKey> pipelines,
    IHttpClientFactory http,
    TimeProvider time,
    ILoggerFactory loggers)
{
    public const string PduHttpClient = "pdudaemon";

    public PcMachine Create(PcSpec spec) => new(spec, Power(spec), Console(spec), deliveries, pipelines, time, loggers.CreateLogger($"Redox.Lab.Agent.Machines.Pc.{spec.Name}"));

    public IPowerControl Power(PcSpec spec) => spec.Power switch
    {
        IpmiPowerSpec ipmi => new IpmiPower(ipmi.Bmc),
        PduPowerSpec pdu => new PduPower(pdu, http.CreateClient(PduHttpClient)),
        WolPowerSpec wol => new WakeOnLanPower(spec.Mac, wol, TimeSpan.FromSeconds(60)),
        CommandPowerSpec command => new CommandPower(command),
        _ => new ManualPower(),
    };

    public static IConsoleLink Console(PcSpec spec) => spec.Console switch
    {
        TcpConsoleSpec tcp => new TcpConsole(tcp),
        SerialConsoleSpec serial => new SerialConsole(serial),
        IpmiSolConsoleSpec { Bmc: { } bmc } => new IpmiSolConsole(bmc),
        _ => throw new MachinesFileException($"machine {spec.Name}: console has no BMC"),
    };

    public static PhysicalAddress Mac(PcSpec spec) => spec.Mac;
}
