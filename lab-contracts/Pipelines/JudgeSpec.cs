namespace Redox.Lab.Contracts.Pipelines;

/// <summary>How the lab judges a commit against its baseline (the <c>judge</c> section, pipelines/FORMAT.md).</summary>
/// <param name="Alpha">Significance level of the rank test and 1 - coverage of the shift's interval.</param>
/// <param name="Threshold">Relative threshold for every metric the pipeline does not name (null: from calibration, else 2%).</param>
/// <param name="Step">Extra boots per side per round while a verdict is inconclusive.</param>
/// <param name="MaxBoots">Cap of boots per side for one verdict; 0: the pipeline's boot.count, i.e. no extra boots unless the pipeline sets a cap.</param>
/// <param name="Metrics">Per metric (<c>name</c>, <c>name@stat</c> or <c>stage:name</c>): direction, threshold, ignore.</param>
/// <param name="Plumbing">Frames left out of bug signatures (globs with <c>*</c>): panic and report helpers.</param>
/// <param name="Frames">Symbolized frames a bug signature keeps.</param>
/// <param name="FixedAfter">Clean boots of the default branch, on a machine where a bug occurred, before it counts as fixed.</param>
/// <param name="BisectSteps">Bisection steps before the lab gives up naming one commit.</param>
/// <param name="CalibrationBoots">Boots per side of an A/A calibration.</param>
public sealed record JudgeSpec(
    double Alpha,
    double? Threshold,
    int Step,
    int MaxBoots,
    IReadOnlyDictionary<string, MetricJudgement> Metrics,
    IReadOnlyList<string> Plumbing,
    int Frames,
    int FixedAfter,
    int BisectSteps,
    int CalibrationBoots)
{
    /// <summary>The judgement when a pipeline has no <c>judge</c> section.</summary>
    public static JudgeSpec Default { get; } = new(0.01, null, 2, 0, new Dictionary<string, MetricJudgement>(), ["panic", "report_*", "lab_*", "backtrace*"], 3, 3, 10, 5);
}

/// <summary>A pipeline's word on one metric.</summary>
/// <param name="HigherIsBetter">True for rates (iterations/s); null: the lab's default (lower is better unless the unit is a rate).</param>
/// <param name="Threshold">Relative threshold (0.05 for 5%); null: the default.</param>
/// <param name="Ignore">Not judged (a count or a configuration value, not a performance).</param>
public sealed record MetricJudgement(bool? HigherIsBetter, double? Threshold, bool Ignore);

public static partial class PipelineLoader
{
    private static JudgeSpec ReadJudge(YamlMap? judge)
    {
        var d = JudgeSpec.Default;
        if (judge is null)
        {
            return d;
        }

        var alpha = judge.Parsed("alpha", d.Alpha, ParseFraction, "a probability between 0 and 0.5 (0.01 or 1%)");
        if (alpha is <= 0 or > 0.5)
        {
            throw judge.Fail(judge.Get("alpha")!, "alpha", "must be more than 0 and at most 0.5");
        }

        double? threshold = judge.Get("threshold") is null ? null : Fraction(judge, "threshold");
        var boots = judge.Map("boots", "step", "max");
        var step = boots is null ? d.Step : Count(boots, "step", d.Step, 1, 50);
        var max = boots is null ? d.MaxBoots : Count(boots, "max", d.MaxBoots, 0, 200);
        var metrics = new Dictionary<string, MetricJudgement>(StringComparer.Ordinal);
        if (judge.Get("metrics") is { } node)
        {
            if (node is not YamlDotNet.RepresentationModel.YamlMappingNode mapping)
            {
                throw judge.Fail(node, "metrics", "expected a mapping of metric names to { better, threshold, ignore }");
            }

            foreach (var (keyNode, valueNode) in mapping.Children)
            {
                string name = YamlMap.Scalar(judge.File, keyNode, judge.FieldPath("metrics"));
                var metric = YamlMap.Open(judge.File, $"{judge.FieldPath("metrics")}.{name}", valueNode, "better", "threshold", "ignore");
                bool? higher = metric.Text("better") switch
                {
                    null => null,
                    "lower" => false,
                    "higher" => true,
                    var other => throw metric.Fail(metric.Get("better")!, "better", $"'{other}' is not lower or higher"),
                };
                var ignore = metric.Text("ignore") switch
                {
                    null or "false" => false,
                    "true" => true,
                    var other => throw metric.Fail(metric.Get("ignore")!, "ignore", $"'{other}' is not true or false"),
                };
                metrics[name] = new MetricJudgement(higher, metric.Get("threshold") is null ? null : Fraction(metric, "threshold"), ignore);
            }
        }

        var bisect = judge.Map("bisect", "steps");
        var calibrate = judge.Map("calibrate", "boots");
        return new JudgeSpec(
            alpha,
            threshold,
            step,
            max,
            metrics,
            judge.Get("plumbing") is null ? d.Plumbing : judge.TextList("plumbing"),
            Count(judge, "frames", d.Frames, 1, 16),
            Count(judge, "fixed-after", d.FixedAfter, 1, 1000),
            bisect is null ? d.BisectSteps : Count(bisect, "steps", d.BisectSteps, 1, 64),
            calibrate is null ? d.CalibrationBoots : Count(calibrate, "boots", d.CalibrationBoots, 2, 100));
    }

    private static double Fraction(YamlMap map, string key)
    {
        var value = map.Parsed(key, 0d, ParseFraction, "a fraction (0.05) or a percentage (5%)");
        return value is > 0 and < 10 ? value : throw map.Fail(map.Get(key)!, key, "must be more than 0% and less than 1000%");
    }

    /// <summary><c>5%</c> is 0.05; a plain number is taken as is.</summary>
    private static double? ParseFraction(string text)
    {
        var t = text.Trim();
        var percent = t.EndsWith('%');
        if (percent)
        {
            t = t[..^1];
        }

        return double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? (percent ? v / 100 : v)
            : null;
    }
}
