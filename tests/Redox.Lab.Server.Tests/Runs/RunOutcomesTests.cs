using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Runs;

namespace Redox.Lab.Server.Tests.Runs;

public sealed class RunOutcomesTests
{
    [Fact]
    public void RollUp_AllPassed_Passed() =>
        Assert.Equal(Outcome.Passed, RunOutcomes.RollUp([Outcome.Passed, Outcome.Passed]));

    [Fact]
    public void RollUp_PanicAmongFailures_Panic() =>
        Assert.Equal(Outcome.KernelPanic, RunOutcomes.RollUp([Outcome.Passed, Outcome.TestFailed, Outcome.KernelPanic, Outcome.BootTimeout]));

    [Fact]
    public void RollUp_AgentLost_OutranksKernelOutcomes() =>
        Assert.Equal(Outcome.AgentLost, RunOutcomes.RollUp([Outcome.KernelPanic, Outcome.AgentLost]));

    [Fact]
    public void RollUp_AnyPending_Pending() =>
        Assert.Equal(Outcome.Pending, RunOutcomes.RollUp([Outcome.KernelPanic, Outcome.Pending]));

    [Fact]
    public void RollUp_NoJobs_Pending() =>
        Assert.Equal(Outcome.Pending, RunOutcomes.RollUp([]));
}
