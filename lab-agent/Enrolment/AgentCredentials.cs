using System.Reflection;
using Microsoft.Extensions.Options;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Enrolment;

/// <summary>
/// The agent's bearer token: the saved one for this server, or a new one from enrolling with the
/// secret. Thread-safe; concurrent 401s renew once.
/// </summary>
public sealed class AgentCredentials(
    EnrolmentClient client,
    TokenStore store,
    MachinePool machines,
    IOptions<AgentOptions> options,
    ILogger<AgentCredentials> log)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _token) is { } token)
            return token;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_token is not null)
                return _token;
            if (store.Load() is { } saved)
            {
                log.LogInformation("Using the saved token of agent {AgentId} for {Server}", saved.AgentId, options.Value.Server);
                return _token = saved.Token;
            }

            return _token = await EnrolAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The server answered 401 to <paramref name="rejected"/>: enrol again (once, for all callers that saw it).</summary>
    public async Task<string> RenewAsync(string rejected, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_token is not null && _token != rejected)
                return _token;
            log.LogWarning("The server rejected the agent's token; enrolling again");
            return _token = await EnrolAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> EnrolAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.EnrolmentSecret))
        {
            throw new AgentAuthException(
                $"the agent has no valid token for {o.Server} (looked in {store.PathForServer}) and no Agent:EnrolmentSecret to enrol with");
        }

        var version = typeof(AgentCredentials).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var answer = await client.EnrolAsync(new EnrolRequest(o.Name, o.EnrolmentSecret, machines.Infos, version), cancellationToken);
        store.Save(new StoredToken(o.Server, answer.AgentId, answer.Token));
        log.LogInformation("Enrolled at {Server} as agent {Name} ({AgentId}); token saved to {Path}", o.Server, o.Name, answer.AgentId, store.PathForServer);
        return answer.Token;
    }
}
