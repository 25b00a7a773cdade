using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>The public API as a user's script calls it.</summary>
public static class LabApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static async Task<PushResponse> PushAsync(this LabFixture lab, PushRequest request)
    {
        using var response = await lab.Http.PostAsJsonAsync("/api/runs", request, Json);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"push refused: {(int)response.StatusCode} {body}");
        }

        return JsonSerializer.Deserialize<PushResponse>(body, Json)!;
    }

    public static async Task<RunView> GetRunAsync(this LabFixture lab, Guid runId) =>
        (await lab.Http.GetFromJsonAsync<RunView>($"/api/runs/{runId}", Json))!;

    /// <summary>
    /// Asks <paramref name="probe"/> every <paramref name="every"/> until it answers non-null; after
    /// <paramref name="timeout"/> (a generous bound for QEMU under TCG on a shared machine, not a timing assertion)
    /// fails with both processes' logs and <paramref name="more"/>.
    /// </summary>
    public static async Task<T> PollAsync<T>(this LabFixture lab, Func<Task<T?>> probe, TimeSpan timeout, TimeSpan every, Func<string>? more = null)
        where T : class
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(every);
        }

        throw new TimeoutException($"not there within {timeout}\n{lab.Diagnostics()}\n{more?.Invoke()}");
    }

    /// <summary>Polls the run until it has an outcome; fails with both processes' logs after the timeout.</summary>
    public static async Task<RunView> WaitForRunAsync(this LabFixture lab, Guid runId, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var run = await lab.GetRunAsync(runId);
            if (run.Outcome != Outcome.Pending)
            {
                return run;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"run {runId} still pending after {timeout}\n{lab.Diagnostics()}");
    }

    public static async Task<IReadOnlyList<ConsoleLine>> GetConsoleAsync(this LabFixture lab, Guid jobId) =>
        (await lab.Http.GetFromJsonAsync<List<ConsoleLine>>($"/api/jobs/{jobId}/console?from=0&limit=100000", Json))!;
}
