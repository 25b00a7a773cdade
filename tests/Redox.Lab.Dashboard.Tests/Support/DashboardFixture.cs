using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Migrations;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Dashboard.Tests.Support;

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    public const string Name = "dashboard";
}

/// <summary>
/// A real PostgreSQL, a real lab-server on Kestrel (loopback, free port) seeded through its agent API
/// (<see cref="LabSeed"/>), and Debian's chromium driven by Playwright.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string EnrolmentSecret = "dashboard-test-secret";
    public const string Chromium = "/usr/bin/chromium";

    private WebApplicationFactory<Program>? _factory;
    private PostgresCluster? _cluster;
    private IPlaywright? _playwright;

    public static readonly JsonSerializerOptions Json = CreateJson();

    public string TempDir { get; } = Path.Combine(Path.GetTempPath(), "redox-lab-dashboard-tests-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Where each page's screenshot goes: LAB_SCREENSHOTS, else artifacts/dashboard-screenshots in the repository.</summary>
    public static string ScreenshotDir { get; } = Environment.GetEnvironmentVariable("LAB_SCREENSHOTS") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Repo.Root, "artifacts", "dashboard-screenshots");

    public string BaseUrl { get; private set; } = "";

    /// <summary>The admin token the install command made: API clients and browser pages send it as a bearer header.</summary>
    public string AdminToken { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public LabSeed Seed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(TempDir);
        Directory.CreateDirectory(ScreenshotDir);
        _cluster = await PostgresCluster.StartAsync(Path.Combine(TempDir, "pg"));
        var connection = _cluster.ConnectionString("lab_" + Guid.NewGuid().ToString("N")[..8]);
        using var output = new StringWriter();
        var exit = await MigrateCommand.RunAsync(["--connection", connection], output, output);
        Assert.True(exit == 0, output.ToString());
        var tokenFile = Path.Combine(TempDir, "admin-token");
        exit = await CreateTokenCommand.RunAsync(["--connection", connection, "--user", "admin", "--role", "admin", "--out", tokenFile], output, output);
        Assert.True(exit == 0, output.ToString());
        AdminToken = (await File.ReadAllTextAsync(tokenFile)).Trim();

        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Lab", connection);
            b.UseSetting("Lab:EnrolmentSecret", EnrolmentSecret);
            b.UseSetting("Lab:DataDir", Path.Combine(TempDir, "server"));
            // Pages are read as the public dashboard (Lab:Dashboard:Access): Chromium's downloads do not carry the
            // context's extra bearer header. Sign-in and the closed routes are tested in the server tests.
            b.UseSetting("Lab:Dashboard:Access", "public");
            b.UseSetting("Logging:LogLevel:Default", "Warning");
            b.UseEnvironment("Testing");
        });
        _factory.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        _factory.StartServer();
        BaseUrl = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        Seed = await LabSeed.CreateAsync(this);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            Timeout = 120_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        if (_cluster is not null) await _cluster.DisposeAsync();
        try
        {
            Directory.Delete(TempDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still held open is left in /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A fresh page (own context: no cookies or storage shared between tests), 1400 px wide, in the given colour scheme.</summary>
    public async Task<IPage> PageAsync(ColorScheme scheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            ColorScheme = scheme,
            TimezoneId = "Europe/Berlin",
            ExtraHTTPHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + AdminToken },
        });
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(60_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error") Errors.Add(message.Text);
        };
        page.PageError += (_, error) => Errors.Add(error);
        return page;
    }

    /// <summary>Errors the pages logged to the browser console (script errors, failed loads).</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Saves a screenshot as <c>{name}.png</c> in <see cref="ScreenshotDir"/>: the whole page, or (a long console) what the window shows.</summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = fullPage });

    public HttpClient Client(string? bearer = null)
    {
        var client = _factory!.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(90);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? AdminToken);
        return client;
    }

    public async Task<HttpClient> EnrolAsync(string name, IReadOnlyList<MachineInfo> machines)
    {
        using var anonymous = Client();
        var response = await anonymous.PostAsJsonAsync("/api/agents/enrol", new EnrolRequest(name, EnrolmentSecret, machines, "1.0-test"), Json);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrolResponse>(Json))!;
        return Client(enrolled.Token);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Redox.Lab.Server.Extensions.ConfigureJson(o);
        return o;
    }
}
