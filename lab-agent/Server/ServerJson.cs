using System.Text.Json;
using System.Text.Json.Serialization;

namespace Redox.Lab.Agent.Server;

/// <summary>The wire format of API.md: web defaults (camelCase), enums as camelCase strings.</summary>
public static class ServerJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}

/// <summary>The server refused the agent's credentials and the agent cannot enrol again: an operator has to act.</summary>
public sealed class AgentAuthException(string message) : Exception(message);

/// <summary>The server answered a request with an error status the agent does not retry.</summary>
public sealed class LabServerException(string message, int status) : Exception(message)
{
    public int Status { get; } = status;
}
