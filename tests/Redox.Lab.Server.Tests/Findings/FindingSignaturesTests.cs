using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Findings;

namespace Redox.Lab.Server.Tests.Findings;

public sealed class FindingSignaturesTests
{
    private static readonly string[] Plumbing = ["panic", "report_*", "lab_*"];

    private static FindingReport Finding(string kind, params (string Key, string Value)[] fields) =>
        new(kind, fields.ToDictionary(f => f.Key, f => f.Value), 1);

    [Fact]
    public void Of_SymbolizedBacktrace_KindAndTopFramesWithoutOffsetsOrPlumbing()
    {
        var f = Finding("double-free", ("bt.sym", "report_frame_finding+0x20,p2buddy_free+0x3c,bugs_trigger+0x11,kmain+0x80,_start+0x5"));

        var s = FindingSignatures.Of(f, Plumbing, 3);

        Assert.Equal("double-free|p2buddy_free|bugs_trigger|kmain", s.Signature);
        Assert.Equal("double-free in p2buddy_free ← bugs_trigger ← kmain", s.Title);
    }

    [Fact]
    public void Of_SameBugRebuiltAtOtherAddresses_SameSignature()
    {
        var a = Finding("page-fault", ("rip.sym", "kmain+0x40"), ("bt.sym", "kmain+0x40,_start+0x9"), ("addr", "0xdead000"));
        var b = Finding("page-fault", ("rip.sym", "kmain+0x58"), ("bt.sym", "kmain+0x58,_start+0x9"), ("addr", "0xbeef000"));

        Assert.Equal(FindingSignatures.Of(a, Plumbing, 3), FindingSignatures.Of(b, Plumbing, 3));
        Assert.Equal("page-fault|kmain|_start", FindingSignatures.Of(a, Plumbing, 3).Signature);
    }

    [Fact]
    public void Of_DifferentCallers_DifferentSignatures()
    {
        var a = Finding("double-free", ("bt.sym", "p2buddy_free+0x3c,vm_unmap+0x10"));
        var b = Finding("double-free", ("bt.sym", "p2buddy_free+0x3c,sched_exit+0x10"));

        Assert.NotEqual(FindingSignatures.Of(a, Plumbing, 2).Signature, FindingSignatures.Of(b, Plumbing, 2).Signature);
    }

    [Fact]
    public void Of_UnsymbolizedFrames_FallsBackToMessageWithNumbersMasked()
    {
        var a = Finding("double-free", ("bt.sym", "?,?"), ("msg", "frame 0x1f000 freed twice"));
        var b = Finding("double-free", ("msg", "frame 0x2a000 freed twice"));

        Assert.Equal("double-free|msg:frame N freed twice", FindingSignatures.Of(a, Plumbing, 3).Signature);
        Assert.Equal(FindingSignatures.Of(a, Plumbing, 3), FindingSignatures.Of(b, Plumbing, 3));
    }

    [Fact]
    public void Of_NothingButKind_KindAlone() =>
        Assert.Equal("stale-tlb", FindingSignatures.Of(Finding("stale-tlb"), Plumbing, 3).Signature);

    [Theory]
    [InlineData("report_frame_finding", "report_*", true)]
    [InlineData("panic", "panic", true)]
    [InlineData("panic_handler", "panic", false)]
    [InlineData("lab_emit", "lab_*", true)]
    [InlineData("kmain", "lab_*", false)]
    public void Matches_Globs_WholeName(string name, string glob, bool expected) =>
        Assert.Equal(expected, FindingSignatures.Matches(name, glob));
}
