using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Infrastructure;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Infrastructure;

/// <summary>Behind a listed reverse proxy the rate limits key on the client the proxy saw; nobody else can pick their address.</summary>
[Collection(LabCollection.Name)]
public sealed class ForwardedHeadersTests(LabFixture lab)
{
    [Fact]
    public void ToOptions_NothingListed_NoProxyTrustedNotEvenLoopback()
    {
        var options = new ForwardedHeadersSettings().ToOptions();

        Assert.Empty(options.KnownProxies);
        Assert.Empty(options.KnownIPNetworks);
    }

    [Fact]
    public void ToOptions_AddressesAndNetworks_EachInItsList()
    {
        var options = new ForwardedHeadersSettings { TrustedProxies = "10.0.0.5, 172.28.0.0/16 fd00::/8" }.ToOptions();

        Assert.Equal([IPAddress.Parse("10.0.0.5")], options.KnownProxies);
        Assert.Equal([System.Net.IPNetwork.Parse("172.28.0.0/16"), System.Net.IPNetwork.Parse("fd00::/8")], options.KnownIPNetworks);
        Assert.Equal(1, options.ForwardLimit);
    }

    [Fact]
    public void Parse_EntryThatIsNoAddress_ThrowsNamingIt()
    {
        var e = Assert.Throws<FormatException>(() => new ForwardedHeadersSettings { TrustedProxies = "10.0.0.5, proxy.local" }.Parse());

        Assert.Contains("'proxy.local'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enrol_BehindATrustedProxy_RateLimitKeyedOnTheForwardedClient()
    {
        using var limits = lab.Configure(("Lab:RateLimits:EnrolPerMinute", "4"));
        using var proxy = Trust("127.0.0.1");
        using var client = lab.AnonymousClient();
        var (a, b) = (RandomClient(), RandomClient());

        var fromA = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            fromA.Add((await EnrolAsync(client, $"198.51.100.1, {a}")).StatusCode);
        var fromB = await EnrolAsync(client, b);

        // nginx appends the address it saw: whatever the client put before it (198.51.100.1) is not believed.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], fromA);
        Assert.Equal(HttpStatusCode.Unauthorized, fromB.StatusCode);
    }

    [Fact]
    public async Task Enrol_ClientThatIsNotAListedProxy_ItsForwardedForIgnored()
    {
        using var limits = lab.Configure(("Lab:RateLimits:EnrolPerMinute", "3"));
        using var proxy = Trust("127.0.0.1");
        // Connects from 127.0.0.2: a host that is not the listed proxy, sending a new X-Forwarded-For each time.
        using var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { BaseAddress = lab.Factory.ClientOptions.BaseAddress };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
            statuses.Add((await EnrolAsync(client, RandomClient())).StatusCode);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Enrol_NoProxyListed_LoopbacksForwardedForIgnored()
    {
        using var limits = lab.Configure(("Lab:RateLimits:EnrolPerMinute", "2"));
        using var client = lab.AnonymousClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
            statuses.Add((await EnrolAsync(client, RandomClient())).StatusCode);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    private static Task<HttpResponseMessage> EnrolAsync(HttpClient client, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/agents/enrol")
        {
            Content = JsonContent.Create(new EnrolRequest("guesser", "wrong-" + Guid.NewGuid(), []), options: LabFixture.Json),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    /// <summary>A client address no other test used (the rate limiter's windows outlive a test).</summary>
    private static string RandomClient() => $"203.0.{Random.Shared.Next(0, 256)}.{Random.Shared.Next(1, 255)}";

    /// <summary>Lists <paramref name="proxies"/> in <c>Lab:ForwardedHeaders:TrustedProxies</c> until disposed (the server reads it again on change).</summary>
    private Restore Trust(string proxies)
    {
        var config = (IConfigurationRoot)lab.Services.GetRequiredService<IConfiguration>();
        var key = ForwardedHeadersSettings.Section + ":TrustedProxies";
        config[key] = proxies;
        config.Reload();
        return new Restore(() =>
        {
            config[key] = "";
            config.Reload();
        });
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
