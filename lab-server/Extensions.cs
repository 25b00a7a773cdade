using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Redox.Lab.Dashboard;
using Redox.Lab.Server.Agents;
using Redox.Lab.Server.Artifacts;
using Redox.Lab.Server.Bisection;
using Redox.Lab.Server.Dashboard;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;
using Redox.Lab.Server.Findings;
using Redox.Lab.Server.Forges;
using Redox.Lab.Server.Infrastructure;
using Redox.Lab.Server.Jobs;
using Redox.Lab.Server.Profiles;
using Redox.Lab.Server.Runs;
using Redox.Lab.Server.Symbols;
using Redox.Lab.Server.Verdicts;

namespace Redox.Lab.Server;

/// <summary>Service registration and middleware for the lab server (Program.cs stays a list of calls).</summary>
public static class Extensions
{
    /// <summary>Hangfire queues, in priority order.</summary>
    public static readonly string[] Queues = ["runs", "default"];

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // The dashboard's CSS and JavaScript from the build output (the Razor library's wwwroot and the
        // npm files) in every environment, not only Development; a published server has them in wwwroot.
        builder.WebHost.UseStaticWebAssets();
        services.AddOptions<LabOptions>().Bind(builder.Configuration.GetSection(LabOptions.Section))
            .PostConfigure(o =>
            {
                if (!string.IsNullOrWhiteSpace(o.EnrolmentSecretFile))
                    o.EnrolmentSecret = Redox.Lab.Contracts.Secrets.SecretFiles.Read(o.EnrolmentSecretFile, "Lab:EnrolmentSecretFile");
            });
        // The configuration has read them: no child process (git) inherits the secret or the connection string.
        Redox.Lab.Contracts.Secrets.SecretFiles.ScrubEnvironment("Lab:EnrolmentSecret", "ConnectionStrings:Lab");
        services.TryAddSingleton(TimeProvider.System);

        // One pooled data source for EF, the hand-written SQL (claims, COPY) and the LISTEN connection.
        // Read lazily: the tests set the connection string after Program has started building.
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(ConnectionString(sp.GetRequiredService<IConfiguration>()))
        {
            Name = "lab",
        }.Build());
        services.AddDbContext<LabDbContext>((sp, o) => o.UseNpgsql(
            sp.GetRequiredService<NpgsqlDataSource>(),
            n => n.MigrationsAssembly(LabDbContext.MigrationsAssembly)));

        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // Problem details never name the server's directories (Infrastructure/ServerPaths).
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ServerPaths.Scrub);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        // Users (API tokens, sessions), agents, roles, and the fallback policy that closes every route by default.
        services.AddLabAuthentication();
        // The key ring that protects session cookies and antiforgery tokens lives in the database, so that with
        // several servers behind a proxy a session opened on one is valid on all (docs/several-servers.md).
        services.AddDataProtection().SetApplicationName("redox-lab").PersistKeysToDbContext<LabDbContext>();
        // Login, enrolment, token creation and push: ASP.NET Core's rate limiter (Infrastructure/RateLimits).
        services.AddLabRateLimits(builder.Configuration);
        services.AddLabForwardedHeaders(builder.Configuration);

        // git fetch: overall timeout, then retry with backoff on transient failures, then a per-attempt timeout whose
        // cancellation kills the git process (Lab:Git bounds; only background jobs run git, never a request).
        services.AddResiliencePipeline(GitMirrors.Pipeline, (p, context) =>
        {
            var git = context.ServiceProvider.GetRequiredService<IOptions<LabOptions>>().Value.Git;
            p.AddTimeout(git.TotalTimeout)
                .AddRetry(new RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<GitTransientException>().Handle<TimeoutRejectedException>(),
                    MaxRetryAttempts = 3,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromSeconds(1),
                })
                .AddTimeout(git.ProcessTimeout);
        });

        services.AddSingleton<GitMirrors>();
        services.AddScoped<PushService>();
        services.AddScoped<ResolvePushJob>();
        services.AddScoped<RunQueries>();
        services.AddSingleton<SymbolizerCache>();
        services.AddScoped<KernelSymbols>();
        services.AddScoped<ProfileStore>();
        services.AddScoped<ProfileLibrary>();
        services.AddScoped<ArtifactStore>();
        services.AddSingleton<ArtifactFiles>();
        services.AddScoped<ArtifactSweep>();
        services.AddScoped<Machines.MachineHealthService>();
        services.AddDashboard();
        services.AddDashboardQueries();
        services.AddScoped<JobClaims>();
        services.AddScoped<AgentJobs>();
        services.AddScoped<LateResults>();
        services.AddOptions<ConsoleStorage.RetentionOptions>().Bind(builder.Configuration.GetSection(ConsoleStorage.RetentionOptions.Section));
        services.AddScoped<ConsoleStorage.ConsoleArchive>();
        services.AddScoped<ConsoleStorage.CompactConsoleJob>();
        services.AddScoped<ConsoleStorage.PruneRetentionJob>();
        services.AddScoped<JobRetries>();
        services.AddScoped<RunRollup>();
        services.AddSingleton<JobWakeups>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWakeups>());

        services.AddScoped<BugTracker>();
        services.AddScoped<SampleQueries>();
        services.AddScoped<Thresholds>();
        services.AddScoped<Baselines>();
        services.AddScoped<RunScheduler>();
        services.AddScoped<RunJudge>();
        services.AddScoped<BisectionService>();
        services.AddScoped<ChangePoints>();
        services.AddScoped<Calibrations>();
        services.AddScoped<VerdictQueries>();
        services.AddScoped<JudgeEndedRunsJob>();
        services.AddScoped<CalibrateMachinesJob>();

        services.AddScoped<CreateJobsForRunJob>();
        services.AddForges();
        services.AddScoped<FailLostJobsJob>();
        services.AddScoped<ScheduleStalledRunsJob>();
        services.AddScoped<ExpireQueuedJobsJob>();
        services.AddScoped<RunCancellation>();
        services.AddHostedService<RecurringJobs>();
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                o => o.UseNpgsqlConnection(ConnectionString(sp.GetRequiredService<IConfiguration>())),
                new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    PrepareSchemaIfNecessary = true,
                    // Workers wait on LISTEN/NOTIFY for new jobs instead of polling the queue table:
                    // a push reaches CreateJobsForRunJob in milliseconds. The poll interval is only the
                    // fallback when a notification is missed.
                    EnableLongPolling = true,
                    QueuePollInterval = TimeSpan.FromSeconds(5),
                    DistributedLockTimeout = TimeSpan.FromSeconds(30),
                    // A killed server's fetched job goes back to the queue after Lab:JobInvisibilitySeconds, not
                    // Hangfire's 30 minutes; a live server heartbeats its long jobs (a push's bounded git fetch) to keep them.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = sp.GetRequiredService<IOptions<LabOptions>>().Value.JobInvisibility,
                }));
        services.AddHangfireServer((sp, o) =>
        {
            o.Queues = Queues;
            o.WorkerCount = Math.Clamp(sp.GetRequiredService<IOptions<LabOptions>>().Value.Workers, 1, 8);
            // The recurring FailLostJobsJob runs every 15 s; the scheduler must look at least that often.
            o.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            o.ServerName = $"lab-server:{Environment.ProcessId}";
        });
        // Pushes are read from git on their own queue and workers: a slow or dead remote holds at most Lab:Git:Concurrency
        // of these, never a request and never the workers that create jobs.
        services.AddHangfireServer((sp, o) =>
        {
            o.Queues = [ResolvePushJob.Queue];
            o.WorkerCount = Math.Clamp(sp.GetRequiredService<IOptions<LabOptions>>().Value.Git.Concurrency, 1, 16);
            o.ServerName = $"lab-server-git:{Environment.ProcessId}";
        });
    }

    public static void UseApplicationMiddleware(this WebApplication app)
    {
        app.UseLabForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSecurityHeaders();
        app.UseRequestLimits();
        app.UseAuthentication();
        app.UseSessionAntiforgery();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseAntiforgery();
    }

    public static void MapHangfire(this WebApplication app)
    {
        // Admins only (ASP.NET Core authorization instead of Hangfire's local-requests filter: any local process
        // could call it). Hangfire validates its own POSTs with IAntiforgery, and so does UseSessionAntiforgery.
        app.MapHangfireDashboard("/hangfire", new Hangfire.DashboardOptions { Authorization = [], AsyncAuthorization = [] })
            .RequireAuthorization(Policies.Admin);
    }

    public static void MapHealthApi(this WebApplication app)
    {
        app.MapGet("/healthz", async (NpgsqlDataSource db, CancellationToken ct) =>
        {
            try
            {
                await using var cmd = db.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(ct);
                return Results.Text("ok");
            }
            catch (NpgsqlException)
            {
                return Results.Problem(statusCode: 503, title: "Database unavailable", detail: "the lab's database did not answer");
            }
        }).WithName("Health").AllowAnonymous();
    }

    public static void ConfigureJson(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        // A missing required field or a null where the contract says non-null is a 400, not a null reference later.
        o.RespectNullableAnnotations = true;
        o.RespectRequiredConstructorParameters = true;
    }

    internal static string ConnectionString(IConfiguration config) =>
        config.GetConnectionString("Lab") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("ConnectionStrings:Lab is not set (e.g. --ConnectionStrings:Lab \"Host=...;Database=lab\").");
}
