namespace Redox.Lab.Agent.Machines.Power;

/// <summary>
/// pdudaemon's HTTP API: <c>GET /power/control/{on|off|reboot}?hostname=&lt;pdu&gt;&amp;port=&lt;outlet&gt;</c>.
/// pdudaemon queues the request and answers at once; a non-2xx answer (503 while it is busy or its
/// PDU is unreachable) is a <see cref="PowerException"/> for the power pipeline to retry. It has no
/// status request: <see cref="StatusAsync"/> is unknown.
/// </summary>
public sealed class PduPower(PduPowerSpec pdu, HttpClient http) : IPowerControl
{
    public string Describe => $"pdudaemon {pdu.Url} {pdu.Pdu} outlet {pdu.Outlet}";

    // "reboot" rather than "on": a PC left on by a crashed agent is cycled, not left running the old kernel.
    public Task PowerOnAsync(CancellationToken cancellationToken) => RequestAsync("reboot", cancellationToken);

    public Task PowerOffAsync(CancellationToken cancellationToken) => RequestAsync("off", cancellationToken);

    public Task<PowerState> StatusAsync(CancellationToken cancellationToken) => Task.FromResult(PowerState.Unknown);

    private async Task RequestAsync(string action, CancellationToken cancellationToken)
    {
        var url = new Uri(pdu.Url, $"power/control/{action}?hostname={Uri.EscapeDataString(pdu.Pdu)}&port={pdu.Outlet}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(pdu.Timeout);
        try
        {
            using var response = await http.GetAsync(url, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                throw new PowerException($"{Describe}: {action}: {(int)response.StatusCode} {response.ReasonPhrase} {body.Trim()}".TrimEnd());
            }
        }
        catch (HttpRequestException e)
        {
            throw new PowerException($"{Describe}: {action}: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PowerException($"{Describe}: {action}: no answer within {pdu.Timeout.TotalSeconds:0}s");
        }
    }
}
