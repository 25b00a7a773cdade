using Redox.Lab.Contracts.Pipelines;

namespace Redox.Lab.Contracts.Tests.Pipelines;

public class JudgeSpecTests
{
    private const string Minimal = """
        name: demo
        build:
          commands: [make]
          artifacts:
            image: kernel.bin
        """;

    [Fact]
    public void Load_NoJudgeSection_Defaults()
    {
        var spec = PipelineLoader.Load(Minimal).Judgement;

        Assert.Equal(JudgeSpec.Default, spec);
        Assert.Equal(0, spec.MaxBoots); // no extra boots unless the pipeline sets a cap
    }

    [Fact]
    public void Load_FullJudgeSection_EveryField()
    {
        var spec = PipelineLoader.Load(Minimal + """

            judge:
              alpha: 5%
              threshold: 0.03
              boots: { step: 3, max: 12 }
              metrics:
                syscall.enosys.cycles: { threshold: 5% }
                tlb.stress.iterations_per_sec: { better: higher }
                tsc.hz: { ignore: true }
              plumbing: [panic, report_*]
              frames: 2
              fixed-after: 4
              bisect: { steps: 6 }
              calibrate: { boots: 7 }
            """).Judgement;

        Assert.Equal(0.05, spec.Alpha, 9);
        Assert.Equal(0.03, spec.Threshold);
        Assert.Equal((3, 12), (spec.Step, spec.MaxBoots));
        Assert.Equal(0.05, spec.Metrics["syscall.enosys.cycles"].Threshold!.Value, 9);
        Assert.True(spec.Metrics["tlb.stress.iterations_per_sec"].HigherIsBetter);
        Assert.True(spec.Metrics["tsc.hz"].Ignore);
        Assert.Equal(["panic", "report_*"], spec.Plumbing);
        Assert.Equal((2, 4, 6, 7), (spec.Frames, spec.FixedAfter, spec.BisectSteps, spec.CalibrationBoots));
    }

    [Theory]
    [InlineData("judge:\n  alpha: 0.9", "judge.alpha: must be more than 0 and at most 0.5")]
    [InlineData("judge:\n  threshold: lots", "judge.threshold: 'lots' is not a fraction")]
    [InlineData("judge:\n  metrics:\n    x: { better: faster }", "judge.metrics.x.better: 'faster' is not lower or higher")]
    [InlineData("judge:\n  boots: { steps: 2 }", "judge.boots.steps: unknown key 'steps'")]
    [InlineData("judge:\n  bisect: { steps: 0 }", "judge.bisect.steps: must be 1..64, not 0")]
    public void Load_BadJudgeField_NamesTheField(string judge, string expected)
    {
        var ex = Assert.Throws<PipelineException>(() => PipelineLoader.Load(Minimal + "\n" + judge));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
