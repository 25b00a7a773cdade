using Microsoft.Extensions.Time.Testing;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>
/// A fake clock that says when code starts waiting on it (each timer it makes), so a test can act once the code
/// under test is parked, without sleeping. It starts at the real time, so rows it stamps look current to the server.
/// </summary>
public sealed class WaitingClock() : FakeTimeProvider(DateTimeOffset.UtcNow)
{
    private readonly SemaphoreSlim _timers = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Release();
        return timer;
    }

    /// <summary>Completes when the next timer not yet waited for has been made.</summary>
    public async Task NextTimerAsync(TimeSpan timeout)
    {
        if (!await _timers.WaitAsync(timeout))
            throw new TimeoutException($"no timer made within {timeout}");
    }
}
