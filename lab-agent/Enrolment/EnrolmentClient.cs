using System.Net;
using System.Net.Http.Json;
using Polly.Registry;
using Redox.Lab.Agent.Server;
using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Enrolment;

/// <summary>POST /api/agents/enrol: the one route the agent calls without a token.</summary>
public sealed class EnrolmentClient(HttpClient http, ResiliencePipelineProvider<string> pipelines)
{
    public async Task<EnrolResponse> EnrolAsync(EnrolRequest request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.GetPipeline<HttpResponseMessage>(ServerPipelines.Server);
        using var response = await pipeline.ExecuteAsync(
            async ct => await http.SendAsync(LabServerClient.Json(HttpMethod.Post, "api/agents/enrol", request), ct),
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new AgentAuthException($"the server at {http.BaseAddress} rejected the enrolment secret (401): check Agent:EnrolmentSecret");
        await LabServerClient.EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<EnrolResponse>(ServerJson.Options, cancellationToken)
            ?? throw new LabServerException("POST api/agents/enrol: empty answer", (int)response.StatusCode);
    }
}
