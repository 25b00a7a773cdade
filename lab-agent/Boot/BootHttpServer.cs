using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Redox.Lab.Agent.Boot;

/// <summary>
/// The HTTP boot server PCs fetch from (routes in Boot/README.md): the iPXE entry script, each MAC's
/// script (its job's, or "no job: power off"), GRUB configurations, the job's files under their
/// token (range requests, for iPXE's <c>sanboot</c>), and the firmware files also served by TFTP.
/// Nothing else on the agent's disk is reachable.
/// </summary>
public sealed class BootHttpServer(IOptions<BootOptions> options, BootDeliveries deliveries, BootFirmware firmware, ILogger<BootHttpServer> log) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The base URL PCs use (configuration <c>PublicUrl</c>, else the listening address); set once started.</summary>
    public string PublicUrl { get; private set; } = "";

    /// <summary>The base URL this host reaches the server at (the listening address; 0.0.0.0 as 127.0.0.1); set once started.</summary>
    public string LocalUrl { get; private set; } = "";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Value.HttpListen);
        builder.Logging.ClearProviders();
        var app = builder.Build();

        app.MapGet("/boot.ipxe", () => Script(BootScripts.IpxeEntry(PublicUrl)));
        app.MapGet("/boot/{mac}.ipxe", (string mac) =>
        {
            var d = deliveries.ScriptFetched(mac);
            log.LogInformation("boot script fetched by {Mac}: {What}", mac, d is null ? "no job" : d.Label);
            return Script(d is null ? BootScripts.IpxeNoJob(BootDeliveries.Normalise(mac)) : BootScripts.Ipxe(d, PublicUrl));
        });
        app.MapGet("/grub/{mac}.cfg", (string mac) =>
        {
            var d = deliveries.ScriptFetched(mac);
            log.LogInformation("grub config fetched by {Mac}: {What}", mac, d is null ? "no job" : d.Label);
            return Script(BootScripts.Grub(d, PublicUrl, BootDeliveries.Normalise(mac)));
        });
        // GET and HEAD: iPXE's sanboot asks for the disk's size with HEAD, then reads it with ranges.
        string[] getHead = ["GET", "HEAD"];
        app.MapMethods("/files/{mac}/{token}/{name}", getHead, (string mac, string token, string name) =>
            deliveries.FileFetched(mac, token, name) is { } path
                ? Results.File(path, "application/octet-stream", enableRangeProcessing: true)
                : Results.NotFound());
        app.MapGet("/failed/{mac}/{token}", (string mac, string token, string? step) =>
        {
            var failed = deliveries.BootFailed(mac, token, step ?? "?");
            log.LogWarning("{Mac} reports its boot failed at step {Step}", mac, step);
            return failed ? Results.Text("noted\n") : Results.NotFound();
        });
        app.MapMethods("/firmware/{name}", getHead, (string name) =>
            firmware.Find(name) is { } path ? Results.File(path, "application/octet-stream", enableRangeProcessing: true) : Results.NotFound());

        await app.StartAsync(cancellationToken);
        _app = app;
        var listening = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? options.Value.HttpListen;
        LocalUrl = listening.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal).TrimEnd('/');
        PublicUrl = (options.Value.PublicUrl ?? LocalUrl).TrimEnd('/');
        log.LogInformation("HTTP boot server on {Listen}; PCs use {Url}", listening, PublicUrl);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
            await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }

    private static IResult Script(string text) => Results.Text(text, "text/plain; charset=utf-8");
}
