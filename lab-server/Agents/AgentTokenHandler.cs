using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Redox.Lab.Server.Data;
using Redox.Lab.Server.Identity;

namespace Redox.Lab.Server.Agents;

/// <summary>Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the agents' token hashes and records when the agent was last seen.</summary>
public sealed class AgentTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    LabDbContext db, TimeProvider clock, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AgentToken";
    public const string Policy = "Agent";
    public const string AgentIdClaim = "lab:agent_id";

    /// <summary>last_seen is written at most this often per agent: a long-polling agent calls a lot.</summary>
    private static readonly TimeSpan SeenResolution = TimeSpan.FromSeconds(5);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerTokens.Read(Request, out var failure) is not { } token) return failure ?? AuthenticateResult.NoResult();

        var hash = AgentTokens.Hash(token);
        var agent = await db.Agents.AsNoTracking().Where(a => a.TokenHash == hash)
            .Select(a => new { a.Id, a.Name }).FirstOrDefaultAsync(Context.RequestAborted);
        if (agent is null) return AuthenticateResult.Fail("unknown agent token");

        var now = clock.GetUtcNow();
        var stale = now - SeenResolution;
        await db.Agents.Where(a => a.Id == agent.Id && a.LastSeen < stale)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastSeen, now), Context.RequestAborted);

        var identity = new ClaimsIdentity(
            [new Claim(AgentIdClaim, agent.Id.ToString()), new Claim(ClaimTypes.Name, agent.Name)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        BearerTokens.WriteUnauthorizedAsync(Context, problems, "send Authorization: Bearer <token> with the token from POST /api/agents/enrol");

    /// <summary>The authenticated agent's id.</summary>
    public static Guid AgentId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(AgentIdClaim)!);
}
