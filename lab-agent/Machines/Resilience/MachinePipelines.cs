using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Timeout;
using Redox.Lab.Agent.Machines.Consoles;
using Redox.Lab.Agent.Machines.Power;

namespace Redox.Lab.Agent.Machines.Resilience;

/// <summary>A pipeline for one machine: the builder is named once (<see cref="Pipeline"/>), each machine gets its own instance (its own breaker).</summary>
public readonly record struct MachinePipelineKey(string Pipeline, string Machine);

/// <summary>
/// The named resilience pipelines for real PCs, defined once at startup (README.md "Resilience"):
/// <list type="bullet">
/// <item><c>power</c>: overall timeout, retry (exponential backoff with jitter) on <see cref="PowerException"/> and timeouts, per-attempt timeout.</item>
/// <item><c>console-attach</c>: the same shape for attaching (and re-attaching) a console.</item>
/// <item><c>boot-delivery</c>: power on and wait for the PC to fetch its script and files; retried <c>boot.attempts - 1</c> times.</item>
/// <item><c>machine</c>: a circuit breaker per machine around the whole power-on: after consecutive infrastructure failures the machine is not tried for a while.</item>
/// </list>
/// Every retry and breaker change is reported to the machine's <see cref="LabEvents"/> sink, which the boot writes into the job's console as <c>lab:</c> lines.
/// </summary>
public static class MachinePipelines
{
    public const string Power = "power";
    public const string ConsoleAttach = "console-attach";
    public const string BootDelivery = "boot-delivery";
    public const string Breaker = "machine";

    /// <summary>Where a pipeline's callbacks report to: set on the <see cref="ResilienceContext"/> by the caller.</summary>
    public static readonly ResiliencePropertyKey<Action<string>> LabEvents = new("lab-events");

    /// <summary>Told when the machine's breaker opens (true) or closes (false): health follows it.</summary>
    public static readonly ResiliencePropertyKey<Action<bool>> BreakerEvents = new("breaker-events");

    public static IServiceCollection AddMachinePipelines(this IServiceCollection services, MachinePipelineSettings settings, Func<IServiceProvider, string, int> deliveryAttempts)
    {
        services.AddResiliencePipelineRegistry<MachinePipelineKey>(o =>
        {
            o.BuilderComparer = new ByPipeline();
            o.BuilderNameFormatter = k => k.Pipeline;
            o.InstanceNameFormatter = k => k.Machine;
        });
        services.AddResiliencePipeline<MachinePipelineKey>(new MachinePipelineKey(Power, ""), (b, c) =>
        {
            b.TimeProvider = c.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            Attempts(b, Power, settings.PowerTotal, settings.PowerRetries, settings.PowerDelay, settings.PowerAttempt);
        });
        services.AddResiliencePipeline<MachinePipelineKey>(new MachinePipelineKey(ConsoleAttach, ""), (b, c) =>
        {
            b.TimeProvider = c.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            Attempts(b, ConsoleAttach, settings.ConsoleTotal, settings.ConsoleRetries, settings.ConsoleDelay, settings.ConsoleAttempt);
        });
        services.AddResiliencePipeline<MachinePipelineKey>(new MachinePipelineKey(BootDelivery, ""), (b, c) =>
        {
            b.TimeProvider = c.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            var attempts = deliveryAttempts(c.ServiceProvider, c.PipelineKey.Machine);
            if (attempts > 1)
            {
                b.AddRetry(new RetryStrategyOptions
                {
                    ShouldHandle = new PredicateBuilder().Handle<BootNotDeliveredException>(),
                    MaxRetryAttempts = attempts - 1,
                    Delay = settings.DeliveryDelay,
                    BackoffType = DelayBackoffType.Constant,
                    OnRetry = a => Report(a.Context, $"{BootDelivery}: attempt {a.AttemptNumber + 1} failed ({a.Outcome.Exception?.Message}); powering on again in {a.RetryDelay.TotalSeconds:0.#}s"),
                });
            }
        });
        services.AddResiliencePipeline<MachinePipelineKey>(new MachinePipelineKey(Breaker, ""), (b, c) =>
        {
            b.TimeProvider = c.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            var machine = c.PipelineKey.Machine;
            b.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<LabInfraException>().Handle<PowerException>().Handle<ConsoleException>().Handle<BootNotDeliveredException>().Handle<TimeoutRejectedException>(),
                FailureRatio = 1.0,
                MinimumThroughput = settings.BreakerFailures,
                SamplingDuration = settings.BreakerWindow,
                BreakDuration = settings.BreakerBreak,
                OnOpened = a =>
                {
                    TellBreaker(a.Context, true);
                    return Report(a.Context, $"breaker of {machine} opened after {settings.BreakerFailures} infrastructure failures; not used for {a.BreakDuration}");
                },
                OnHalfOpened = a => Report(a.Context, $"breaker of {machine} half-open: trying it once"),
                OnClosed = a =>
                {
                    TellBreaker(a.Context, false);
                    return Report(a.Context, $"breaker of {machine} closed");
                },
            });
        });
        return services;
    }

    private static void Attempts(ResiliencePipelineBuilder b, string name, TimeSpan total, int retries, TimeSpan delay, TimeSpan attempt) => b
        .AddTimeout(total)
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PowerException>().Handle<ConsoleException>().Handle<TimeoutRejectedException>(),
            MaxRetryAttempts = retries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = delay,
            OnRetry = a => Report(a.Context, $"{name}: attempt {a.AttemptNumber + 1} failed ({a.Outcome.Exception?.Message}); retrying in {a.RetryDelay.TotalSeconds:0.#}s"),
        })
        .AddTimeout(attempt);

    private static ValueTask Report(ResilienceContext context, string message)
    {
        if (context.Properties.TryGetValue(LabEvents, out var sink))
            sink(message);
        return ValueTask.CompletedTask;
    }

    private static void TellBreaker(ResilienceContext context, bool open)
    {
        if (context.Properties.TryGetValue(BreakerEvents, out var sink))
            sink(open);
    }

    private sealed class ByPipeline : IEqualityComparer<MachinePipelineKey>
    {
        public bool Equals(MachinePipelineKey x, MachinePipelineKey y) => x.Pipeline == y.Pipeline;

        public int GetHashCode(MachinePipelineKey obj) => obj.Pipeline.GetHashCode(StringComparison.Ordinal);
    }
}

/// <summary>Timings of <see cref="MachinePipelines"/>; the defaults are the production ones (README.md).</summary>
public sealed record MachinePipelineSettings
{
    public TimeSpan PowerTotal { get; init; } = TimeSpan.FromMinutes(3);
    public int PowerRetries { get; init; } = 3;
    public TimeSpan PowerDelay { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan PowerAttempt { get; init; } = TimeSpan.FromSeconds(45);

    public TimeSpan ConsoleTotal { get; init; } = TimeSpan.FromSeconds(90);
    public int ConsoleRetries { get; init; } = 4;
    public TimeSpan ConsoleDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ConsoleAttempt { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan DeliveryDelay { get; init; } = TimeSpan.FromSeconds(5);

    public int BreakerFailures { get; init; } = 3;
    public TimeSpan BreakerWindow { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan BreakerBreak { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>The PC did not fetch its boot script and files in time: the boot was not delivered (an infrastructure failure).</summary>
public sealed class BootNotDeliveredException(string message) : Exception(message);
