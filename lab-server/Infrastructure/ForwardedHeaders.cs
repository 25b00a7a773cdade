using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Server.Infrastructure;

/// <summary>
/// The <c>Lab:ForwardedHeaders</c> section: the reverse proxies (nginx in compose's <c>several</c> profile,
/// docs/several-servers.md) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> the server believes.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "Lab:ForwardedHeaders";

    /// <summary>
    /// Addresses (<c>10.0.0.5</c>) and networks (<c>172.28.0.0/16</c>) of the proxies in front of the server, separated
    /// by commas or spaces. Empty (the default): no proxy is trusted and the headers are ignored, loopback included.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>How many proxies in a row may forward a request (the entries of X-Forwarded-For read from the right).</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>The parsed proxies and networks; throws <see cref="FormatException"/> for an entry that is neither.</summary>
    public (IReadOnlyList<IPAddress> Proxies, IReadOnlyList<IPNetwork> Networks) Parse()
    {
        var proxies = new List<IPAddress>();
        var networks = new List<IPNetwork>();
        foreach (var entry in (TrustedProxies ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.Contains('/', StringComparison.Ordinal))
                networks.Add(IPNetwork.TryParse(entry, out var network) ? network : throw new FormatException($"{Section}:TrustedProxies: '{entry}' is not an address network (like 172.28.0.0/16)"));
            else
                proxies.Add(IPAddress.TryParse(entry, out var address) ? address : throw new FormatException($"{Section}:TrustedProxies: '{entry}' is not an IP address"));
        }
        return (proxies, networks);
    }

    /// <summary>ASP.NET Core's options for these settings: only the listed proxies, never the built-in loopback defaults.</summary>
    public ForwardedHeadersOptions ToOptions()
    {
        var (proxies, networks) = Parse();
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto,
            ForwardLimit = Math.Max(1, ForwardLimit),
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var p in proxies) options.KnownProxies.Add(p);
        foreach (var n in networks) options.KnownIPNetworks.Add(n);
        return options;
    }
}

/// <summary>
/// ASP.NET Core's forwarded-headers middleware, trusting only <c>Lab:ForwardedHeaders:TrustedProxies</c>: behind
/// them the client's address (rate limits per IP, logs) is the one the proxy saw; a client that is not a listed proxy
/// cannot set its own address by sending <c>X-Forwarded-For</c>. The list is read again when the configuration
/// changes. First in the pipeline, so every later middleware sees the client's address.
/// </summary>
public static class ForwardedHeaders
{
    public static void AddLabForwardedHeaders(this IServiceCollection services, IConfiguration configuration) =>
        services.AddOptions<ForwardedHeadersSettings>().Bind(configuration.GetSection(ForwardedHeadersSettings.Section))
            .Validate(s => Valid(s), $"{ForwardedHeadersSettings.Section}:TrustedProxies lists something that is neither an IP address nor a network")
            .ValidateOnStart();

    public static void UseLabForwardedHeaders(this IApplicationBuilder app)
    {
        var settings = app.ApplicationServices.GetRequiredService<IOptionsMonitor<ForwardedHeadersSettings>>();
        var loggers = app.ApplicationServices.GetRequiredService<ILoggerFactory>();
        app.Use(next =>
        {
            // One middleware per settings instance (the monitor hands out a new one when the configuration changes),
            // swapped whole, so a request never pairs one settings instance with another's middleware.
            Current? current = null;
            return ctx =>
            {
                var now = settings.CurrentValue;
                var seen = Volatile.Read(ref current);
                if (seen is null || !ReferenceEquals(seen.Settings, now))
                {
                    seen = new Current(now, string.IsNullOrWhiteSpace(now.TrustedProxies) || !Valid(now) ? null : new ForwardedHeadersMiddleware(next, loggers, Options.Create(now.ToOptions())));
                    Volatile.Write(ref current, seen);
                }
                return seen.Middleware is { } middleware ? middleware.Invoke(ctx) : next(ctx);
            };
        });
    }

    private sealed record Current(ForwardedHeadersSettings Settings, ForwardedHeadersMiddleware? Middleware);

    private static bool Valid(ForwardedHeadersSettings settings)
    {
        try
        {
            settings.Parse();
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
