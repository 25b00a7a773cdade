// bench/verdict: how often the lab's verdicts are wrong, and how many boots they take, on real samples.
// Reads a file of real per-boot samples ("series value" per line, from run.sh), then by resampling them with
// replacement (so the noise is the machine's, not a model's) prints for each series:
//   - A/A: the share of comparisons of the pool against itself that the verdict called a regression or an
//     improvement (false positives), for the sequential design and for a fixed 10 boots per side;
//   - detection: the share of comparisons with the candidate's samples scaled by +1%, +2%, +5%, +10% that the
//     verdict called a regression (lower is better for both series);
//   - the mean boots per side the sequential design needed (start 5, +2 per round while inconclusive), with a
//     cap of 10 and of 20 boots per side (the issue's target bounds the average, not the cap: more boots only
//     when unclear).
// The verdict code is the lab's own (lab-server/Verdicts), at alpha 0.01 and the 2% default threshold.
using System.Globalization;
using Redox.Lab.Server.Verdicts;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Redox.Lab.Bench.Verdict <samples-file> [trials]");
    return 2;
}

var trials = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
var series = File.ReadAllLines(args[0])
    .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    .Where(f => f.Length == 2)
    .GroupBy(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture))
    .ToDictionary(g => g.Key, g => g.ToArray());

SequentialDesign[] designs = [new(Step: 2, MaxPerSide: 10), new(Step: 2, MaxPerSide: 20)];
const int initial = 5;
double[] shifts = [0, 0.01, 0.02, 0.05, 0.10];
var rule = new VerdictRule(VerdictRule.DefaultAlpha, VerdictRule.DefaultThreshold, Better.Lower);
var random = new Random(20261201);

Console.WriteLine($"trials per cell: {trials}; alpha {rule.Alpha}; threshold {rule.Threshold:P0}; sequential design: {initial} boots per side, +{designs[0].Step} per round while inconclusive, cap {designs[0].MaxPerSide} or {designs[1].MaxPerSide}");
Console.WriteLine($"{"series",-36} {"boots",5} {"median",12} {"noise",7} {"shift",6} {"",-19} {"cap 10: rate",12} {"boots/side",10} {"cap 20: rate",12} {"boots/side",10} {"fixed 10/side",14}");
foreach (var (name, pool) in series.OrderBy(s => s.Key, StringComparer.Ordinal))
{
    var median = ShiftComparison.Median(pool);
    var noise = Calibrations.Noise(pool);
    foreach (var shift in shifts)
    {
        var hits = new int[designs.Length];
        var boots = new long[designs.Length];
        var fixedHits = 0;
        for (var t = 0; t < trials; t++)
        {
            for (var d = 0; d < designs.Length; d++)
            {
                var (verdict, a, b, _) = designs[d].Simulate(initial, () => Draw(pool, random), () => Draw(pool, random) * (1 + shift), rule);
                boots[d] += a + b;
                if (Hit(verdict, shift)) hits[d]++;
            }
            var x = Enumerable.Range(0, 10).Select(_ => Draw(pool, random)).ToArray();
            var y = Enumerable.Range(0, 10).Select(_ => Draw(pool, random) * (1 + shift)).ToArray();
            if (Hit(PerformanceVerdicts.Decide(x, y, rule), shift)) fixedHits++;
        }
        var what = shift == 0 ? "A/A false positives" : "detected";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-36} {pool.Length,5} {median,12:G6} {noise,7:P1} {shift,6:P0} {what,-19} {(double)hits[0] / trials,12:P1} {boots[0] / (2.0 * trials),10:F2} {(double)hits[1] / trials,12:P1} {boots[1] / (2.0 * trials),10:F2} {(double)fixedHits / trials,14:P1}"));
    }
}
return 0;

// A/A: any regression or improvement is wrong. With a shift: only a regression is right.
static bool Hit(VerdictKind verdict, double shift) =>
    shift == 0 ? verdict is VerdictKind.Regression or VerdictKind.Improvement : verdict == VerdictKind.Regression;

static double Draw(double[] pool, Random random) => pool[random.Next(pool.Length)];
