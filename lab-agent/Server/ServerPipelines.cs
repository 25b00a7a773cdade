using System.Net;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Redox.Lab.Agent.Server;

/// <summary>
/// The agent's named resilience pipelines for talking to the server, defined once at startup.
/// <c>server</c>: overall timeout, then retry (exponential backoff with jitter on network errors,
/// timeouts, 408, 429 and 5xx), then a per-attempt timeout. <c>long-poll</c>: the job poll, whose
/// attempt legitimately lasts the poll wait; it retries without end (backoff capped) because an
/// agent with nothing to do should keep knocking until the server is back.
/// </summary>
public static class ServerPipelines
{
    public const string Server = "server";
    public const string LongPoll = "long-poll";

    public static void ConfigureServer(ResiliencePipelineBuilder<HttpResponseMessage> builder, ServerPipelineSettings settings)
    {
        builder
            .AddTimeout(settings.TotalTimeout)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = IsTransient,
                MaxRetryAttempts = settings.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.BaseDelay,
                MaxDelay = settings.MaxDelay,
            })
            .AddTimeout(settings.AttemptTimeout);
    }

    public static void ConfigureLongPoll(ResiliencePipelineBuilder<HttpResponseMessage> builder, ServerPipelineSettings settings, int pollWaitSeconds)
    {
        builder
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = IsTransient,
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.BaseDelay,
                MaxDelay = settings.LongPollMaxDelay,
            })
            .AddTimeout(TimeSpan.FromSeconds(pollWaitSeconds) + settings.AttemptTimeout);
    }

    private static ValueTask<bool> IsTransient(RetryPredicateArguments<HttpResponseMessage> args) => ValueTask.FromResult(args.Outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } r } => (int)r.StatusCode >= 500 || r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    });
}

/// <summary>Timings of <see cref="ServerPipelines"/>; the defaults are the production ones.</summary>
public sealed record ServerPipelineSettings
{
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public int MaxRetries { get; init; } = 6;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan LongPollMaxDelay { get; init; } = TimeSpan.FromSeconds(60);
}
