using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Dashboard;

/// <summary>A small HTML writer: <see cref="Text"/> escapes, <see cref="Raw"/> does not; everything from a run goes through Text.</summary>
internal sealed class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);
    private readonly StringBuilder _sb = new();

    public Html Raw(string html)
    {
        _sb.Append(html);
        return this;
    }

    public Html Text(string? text)
    {
        _sb.Append(Encode(text));
        return this;
    }

    public Html Tag(string tag, string? text, string? cls = null) =>
        Raw(cls is null ? $"<{tag}>" : $"<{tag} class=\"{cls}\">").Text(text).Raw($"</{tag}>");

    public Html Link(string href, string? text) => Raw($"<a href=\"{Encode(href)}\">").Text(text).Raw("</a>");

    public Html Outcome(Outcome outcome) => Tag("span", outcome.ToName(), $"outcome {Css(outcome)}");

    public override string ToString() => _sb.ToString();

    public static string Encode(string? text) => Encoder.Encode(text ?? "");

    public static string Time(DateTimeOffset? t) =>
        t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "—";

    public static string Ms(long? ns) => ns is { } v ? (v / 1e6).ToString("0.000", CultureInfo.InvariantCulture) : "—";

    public static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;

    private static string Css(Outcome outcome) => outcome.Kind() switch
    {
        OutcomeKind.Success => "ok",
        OutcomeKind.Pending => "pending",
        OutcomeKind.Infrastructure => "infra",
        OutcomeKind.Cancelled => "pending",
        _ => "bad",
    };

    /// <summary>The page around <paramref name="body"/>.</summary>
    public static IResult Page(string title, Html body, int status = 200) => Results.Content(
        $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{Encode(title)}} · Redox Lab</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#fafbfc}
        header{background:#22303c;color:#fff;padding:.6em 1.5em}header a{color:#fff;margin-right:1.2em;text-decoration:none}
        main{padding:1em 1.5em;max-width:1200px}
        table{border-collapse:collapse;margin:.4em 0 1em}th,td{border-bottom:1px solid #dde2e7;padding:.25em .7em;text-align:left;vertical-align:top}
        th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
        code,pre{font:12px/1.35 ui-monospace,monospace}pre{background:#11161b;color:#d8dee4;padding:.6em;overflow:auto;max-height:40em}
        .outcome{padding:0 .45em;border-radius:3px;font-weight:600}.ok{background:#d7f5dd;color:#0b5d1e}.bad{background:#fbd9d9;color:#8a1111}
        .infra{background:#fbe9c8;color:#7a4a00}.pending{background:#e6e9ed;color:#4a5560}
        section.job{border:1px solid #dde2e7;background:#fff;padding:.4em 1em;margin:1em 0}h3{margin:.6em 0 .2em}
        .cols{display:flex;flex-wrap:wrap;gap:1.5em}caption{text-align:left;font-weight:600;padding:.2em 0}
        .muted{color:#66707a}.ln{color:#6b7785;user-select:none}
        </style></head>
        <body><header><a href="/"><b>Redox Lab</b></a><a href="/">Runs</a><a href="/charts/boot-time">Boot time</a></header>
        <main>{{body}}</main></body></html>
        """,
        "text/html; charset=utf-8",
        statusCode: status);
}
