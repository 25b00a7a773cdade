using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Data;

namespace Redox.Lab.Server.Identity;

/// <summary>Users and API tokens: admins manage everyone; every user lists, makes and revokes their own tokens.</summary>
public static class IdentityApi
{
    public static void MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api").WithTags("Identity").RequireAuthorization(Policies.Viewer);
        me.MapGet("/me", Me).WithName("Me");
        me.MapGet("/users/{name}/tokens", ListTokens).WithName("ListTokens");
        me.MapPost("/users/{name}/tokens", CreateToken).WithName("CreateToken").RequireRateLimiting(Infrastructure.RateLimits.Token);
        me.MapDelete("/tokens/{id:guid}", RevokeToken).WithName("RevokeToken");

        var admin = app.MapGroup("/api/users").WithTags("Identity").RequireAuthorization(Policies.Admin);
        admin.MapGet("", ListUsers).WithName("ListUsers");
        admin.MapPost("", CreateUser).WithName("CreateUser");
        admin.MapPut("/{name}", UpdateUser).WithName("UpdateUser");
    }

    public static Ok<MeView> Me(ClaimsPrincipal user) =>
        TypedResults.Ok(new MeView(user.Identity!.Name!, Roles.All.Last(user.IsInRole)));

    public static async Task<Ok<List<UserView>>> ListUsers(LabDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Set<UserRow>().AsNoTracking().OrderBy(u => u.Name)
            .Select(u => new UserView(u.Name, u.Role, u.CreatedAt, u.Disabled)).ToListAsync(ct));

    public static async Task<Results<Created<UserView>, ProblemHttpResult>> CreateUser(
        CreateUserRequest request, IdentityStore identities, CancellationToken ct)
    {
        try
        {
            var u = await identities.CreateUserAsync(request.Name, request.Role, orExisting: false, ct);
            return TypedResults.Created($"/api/users/{u.Name}", new UserView(u.Name, u.Role, u.CreatedAt, u.Disabled));
        }
        catch (IdentityException ex)
        {
            return Problem(ex);
        }
    }

    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> UpdateUser(
        string name, UpdateUserRequest request, LabDbContext db, CancellationToken ct)
    {
        var u = await db.Set<UserRow>().FirstOrDefaultAsync(x => x.Name == name, ct);
        if (u is null) return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no user '{name}'");
        if (request.Role is { } role)
        {
            if (!Roles.IsValid(role)) return TypedResults.Problem(statusCode: 400, title: "Invalid user", detail: $"role must be one of {string.Join(", ", Roles.All)}");
            u.Role = role;
        }
        if (request.Disabled is { } disabled) u.Disabled = disabled;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new UserView(u.Name, u.Role, u.CreatedAt, u.Disabled));
    }

    public static async Task<Results<Ok<List<TokenView>>, ProblemHttpResult>> ListTokens(
        string name, ClaimsPrincipal user, LabDbContext db, CancellationToken ct)
    {
        if (!MayManage(user, name)) return Forbidden();
        return TypedResults.Ok(await db.Set<ApiTokenRow>().AsNoTracking().Where(t => t.User.Name == name).OrderBy(t => t.CreatedAt)
            .Select(t => new TokenView(t.Id, t.Label, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt)).ToListAsync(ct));
    }

    public static async Task<Results<Created<TokenCreated>, ProblemHttpResult>> CreateToken(
        string name, CreateTokenRequest request, ClaimsPrincipal user, IdentityStore identities, CancellationToken ct)
    {
        if (!MayManage(user, name)) return Forbidden();
        try
        {
            var t = await identities.CreateTokenAsync(name, request.Label, request.Days is { } d ? TimeSpan.FromDays(d) : null, ct);
            return TypedResults.Created($"/api/users/{name}/tokens", new TokenCreated(t.Id, t.User, t.Role, t.Label, t.Token, t.ExpiresAt));
        }
        catch (IdentityException ex)
        {
            return Problem(ex);
        }
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeToken(
        Guid id, ClaimsPrincipal user, LabDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var token = await db.Set<ApiTokenRow>().Include(t => t.User).FirstOrDefaultAsync(t => t.Id == id, ct);
        if (token is null || !MayManage(user, token.User.Name))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"no token {id} of yours");
        token.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static bool MayManage(ClaimsPrincipal user, string name) => user.IsInRole(Roles.Admin) || user.Identity?.Name == name;

    private static ProblemHttpResult Forbidden() =>
        TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: "only admins manage other users' tokens");

    private static ProblemHttpResult Problem(IdentityException ex) =>
        TypedResults.Problem(statusCode: ex.Status, title: "Invalid request", detail: ex.Message);
}
