using Redox.Lab.Contracts.Pipelines;
using Redox.Lab.Server.Machines;

namespace Redox.Lab.Server.Tests.Machines;

public sealed class MachineMatchingTests
{
    private static VariantSpec Variant(string name, params string[] tags) =>
        new(name, new Dictionary<string, string>(), new MachineRequirements(tags, 1, 256));

    [Fact]
    public void Matches_HasAllTags_True() => Assert.True(MachineMatching.Matches(["qemu", "x86_64", "smp"], ["x86_64", "qemu"]));

    [Fact]
    public void Matches_MissingOneTag_False() => Assert.False(MachineMatching.Matches(["qemu"], ["x86_64", "qemu"]));

    [Fact]
    public void Matches_NoRequiredTags_AnyMachine() => Assert.True(MachineMatching.Matches([], []));

    [Fact]
    public void Matches_DifferentCase_True() => Assert.True(MachineMatching.Matches(["X86_64"], ["x86_64"]));

    [Fact]
    public void Plan_TwoVariantsTwoMachines_OneJobPerVariantPerMatchingMachine()
    {
        var qemu = Guid.NewGuid();
        var pc = Guid.NewGuid();
        var plan = MachineMatching.Plan(
            [Variant("p2buddy", "x86_64"), Variant("smp", "x86_64", "smp")],
            [(qemu, ["x86_64", "qemu"]), (pc, ["x86_64", "smp"])]);

        Assert.Equal([("p2buddy", qemu), ("p2buddy", pc), ("smp", pc)], plan);
    }

    [Fact]
    public void RequiredTags_AcrossVariants_Distinct() =>
        Assert.Equal(["x86_64", "smp"], MachineMatching.RequiredTags([Variant("a", "x86_64"), Variant("b", "x86_64", "smp")]));

    [Fact]
    public void Validate_DuplicateNames_Throws() =>
        Assert.Throws<InvalidMachinesException>(() => MachineRegistry.Validate(
            [new("q", "qemu", [], 1, 256), new("q", "qemu", [], 1, 256)]));
}
