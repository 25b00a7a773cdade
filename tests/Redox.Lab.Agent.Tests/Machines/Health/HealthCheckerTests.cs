using Redox.Lab.Agent.Machines.Health;
using Redox.Lab.Agent.Tests.Fakes;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Machines.Health;

public sealed class HealthCheckerTests
{
    private static BootReport Report(long? tscHz, IReadOnlyDictionary<string, string>? kernelSaw) =>
        new(0, Outcome.Passed, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(3), tscHz, [], [], [], [], 0, Fingerprint: kernelSaw);

    [Fact]
    public void Fingerprint_KernelPrintedItsCpu_CpuMicrocodeMemoryAndTsc()
    {
        var machine = new ScriptedMachine(_ => Task.CompletedTask);
        var kernel = new Dictionary<string, string> { ["cpu"] = "AMD EPYC 7702 64-Core Processor", ["cpuid"] = "AuthenticAMD family 23 model 49 stepping 0", ["microcode"] = "0x830107a" };

        var fp = HealthChecker.Fingerprint(machine, Report(2_000_004_000, kernel));

        Assert.Equal(new Dictionary<string, string>
        {
            ["cpu"] = "AMD EPYC 7702 64-Core Processor",
            ["cpuid"] = "AuthenticAMD family 23 model 49 stepping 0",
            ["microcode"] = "0x830107a",
            ["memory"] = "256 MiB",
            ["tsc_mhz"] = "2000",
        }, fp);
    }

    [Fact]
    public void Fingerprint_KernelWithoutMarkers_OnlyWhatTheAgentKnows()
    {
        var fp = HealthChecker.Fingerprint(new ScriptedMachine(_ => Task.CompletedTask), Report(null, null));

        Assert.Equal(new Dictionary<string, string> { ["memory"] = "256 MiB" }, fp);
    }
}
