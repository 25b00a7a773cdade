using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Redox.Lab.Dashboard;

/// <summary>
/// <c>/charts/boot-time</c>: time to the last boot stage per machine across runs, as inline SVG.
/// x: runs in push order (commit short ids); y: milliseconds; solid = host time, dashed = kernel time.
/// </summary>
internal static class BootTimeChart
{
    private const int Width = 960, Height = 420, Left = 64, Right = 72, Top = 20, Bottom = 90;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

    public static async Task<IResult> Render(IDashboardData data, CancellationToken ct, string? pipeline = null, int runs = 50)
    {
        // One pipeline at a time: boots of different pipelines (a profiled or a bug-switch build) are not
        // the same measurement. The default is the pipeline of the newest run.
        var pipelines = (await data.ListRunsAsync(500, ct)).Select(r => r.Pipeline).Distinct(StringComparer.Ordinal).ToList();
        var h = new Html().Tag("h1", "Boot time");
        if (pipelines.Count == 0)
            return Html.Page("Boot time", h.Tag("p", "No boots reported yet.", "muted"));
        pipeline ??= pipelines[0];
        h.Raw("<p>Pipeline: ");
        foreach (var p in pipelines)
        {
            h.Raw(p == pipeline ? "<b>" : $"<a href=\"/charts/boot-time?pipeline={Uri.EscapeDataString(p)}\">").Text(p).Raw(p == pipeline ? "</b> " : "</a> ");
        }
        h.Raw("</p>");

        var points = await data.GetBootTimesAsync(pipeline, Math.Clamp(runs, 2, 500), ct);
        if (points.Count == 0)
            return Html.Page("Boot time", h.Tag("p", "No passed boots of this pipeline yet.", "muted"));
        h.Tag("p", "Time to each passed boot's last stage, one line per machine and variant: solid is host time (power-on to the stage), dashed is the kernel's own clock (TSC). Several boots of one run are averaged.", "muted");
        h.Raw(Svg(points));
        return Html.Page("Boot time", h);
    }

    internal static string Svg(IReadOnlyList<BootTimePoint> points)
    {
        var xs = points.GroupBy(p => p.RunId).Select(g => g.First()).OrderBy(p => p.RunCreatedAt).ToList();
        var column = xs.Select((p, i) => (p.RunId, i)).ToDictionary(t => t.RunId, t => t.i);
        var series = points.GroupBy(p => p.Series).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var max = points.Max(p => Math.Max(p.HostMs, p.KernelMs ?? 0));
        var top = NiceCeiling(max);

        double X(int i) => Left + (xs.Count == 1 ? (Width - Left - Right) / 2.0 : i * (Width - Left - Right) / (double)(xs.Count - 1));
        double Y(double ms) => Top + (Height - Top - Bottom) * (1 - ms / top);
        static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new Html().Raw($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height + 24 * ((series.Count + 2) / 3)}\" role=\"img\" aria-label=\"boot time per machine\" font-size=\"11\" font-family=\"system-ui,sans-serif\">");
        for (var k = 0; k <= 4; k++)
        {
            var ms = top * k / 4;
            svg.Raw($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{F(Y(ms))}\" y2=\"{F(Y(ms))}\" stroke=\"#dde2e7\"/>")
                .Raw($"<text x=\"{Left - 6}\" y=\"{F(Y(ms) + 4)}\" text-anchor=\"end\">").Text($"{ms.ToString("0.##", CultureInfo.InvariantCulture)} ms").Raw("</text>");
        }
        foreach (var (p, i) in xs.Select((p, i) => (p, i)))
        {
            svg.Raw($"<text transform=\"translate({F(X(i))},{Height - Bottom + 12}) rotate(45)\" font-family=\"ui-monospace,monospace\">")
                .Raw("<title>").Text($"{p.Commit} · {p.RunCreatedAt:u}").Raw("</title>").Text(p.Commit.Length > 8 ? p.Commit[..8] : p.Commit).Raw("</text>");
        }

        for (var s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var perRun = series[s].GroupBy(p => column[p.RunId]).OrderBy(g => g.Key)
                .Select(g => (Col: g.Key, Host: g.Average(p => p.HostMs), Kernel: g.All(p => p.KernelMs is null) ? (double?)null : g.Where(p => p.KernelMs is not null).Average(p => p.KernelMs!.Value)))
                .ToList();
            svg.Raw($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', perRun.Select(p => $"{F(X(p.Col))},{F(Y(p.Host))}"))}\"/>");
            var kernel = perRun.Where(p => p.Kernel is not null).ToList();
            if (kernel.Count > 0)
                svg.Raw($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"{string.Join(' ', kernel.Select(p => $"{F(X(p.Col))},{F(Y(p.Kernel!.Value))}"))}\"/>");
            foreach (var p in perRun)
            {
                svg.Raw($"<circle cx=\"{F(X(p.Col))}\" cy=\"{F(Y(p.Host))}\" r=\"3\" fill=\"{color}\"><title>")
                    .Text($"{series[s].Key} {xs[p.Col].Commit[..Math.Min(8, xs[p.Col].Commit.Length)]}: host {p.Host:0.###} ms" + (p.Kernel is { } km ? $", kernel {km:0.###} ms" : ""))
                    .Raw("</title></circle>");
            }
            var lx = Left + (s % 3) * 300;
            var ly = Height + 16 + (s / 3) * 24 - 10;
            svg.Raw($"<line x1=\"{lx}\" x2=\"{lx + 24}\" y1=\"{ly - 4}\" y2=\"{ly - 4}\" stroke=\"{color}\" stroke-width=\"2\"/>")
                .Raw($"<text x=\"{lx + 30}\" y=\"{ly}\">").Text(series[s].Key).Raw("</text>");
        }
        return svg.Raw("</svg>").ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at or above <paramref name="v"/>.</summary>
    internal static double NiceCeiling(double v)
    {
        if (v <= 0) return 1;
        var p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1, 2, 5, 10 })
            if (m * p >= v) return m * p;
        return 10 * p;
    }
}
