using System.Text.Json;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// Deliveries from scripts/git-hooks/post-receive (a self-hosted repository): one ref update per delivery,
/// <c>{"ref": "refs/heads/x", "before": "...", "after": "..."}</c>, with the repository's secret in <c>X-Lab-Token</c>
/// and <c>X-Lab-Delivery</c> derived from the update, so a hook run again for the same update is a duplicate.
/// </summary>
public static class PostReceiveDeliveries
{
    public const string TokenHeader = "X-Lab-Token";
    public const string DeliveryHeader = "X-Lab-Delivery";

    public static HookEvent Parse(string body)
    {
        Update update;
        try
        {
            update = JsonSerializer.Deserialize<Update>(body, JsonSerializerOptions.Web) ?? throw new JsonException("null payload");
        }
        catch (JsonException ex)
        {
            throw new HookRefusedException(400, "Malformed payload", $"not a post-receive update: {HookEvent.Cut(ex.Message)}");
        }
        if (update.Ref is null || update.After is null || update.After.Length is < 40 or > 64 || !update.After.All(Uri.IsHexDigit))
            throw new HookRefusedException(400, "Malformed payload", "a post-receive update needs ref and after (a full commit id)");
        return HookEvent.FromRefUpdate("post-receive", null, update.Ref, update.After, deleted: update.After.Trim('0').Length == 0);
    }

    private sealed record Update(string? Ref, string? Before, string? After);
}
