using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Primitives;
using Octokit.Webhooks;
using Octokit.Webhooks.Events;

namespace Redox.Lab.Server.Forges;

/// <summary>
/// GitHub deliveries: <c>X-Hub-Signature-256</c> checked against the repository's secret, then the payload read by
/// Octokit.Webhooks (its event types and deserializer). The check is ours (a few lines over HMACSHA256 and
/// <see cref="CryptographicOperations.FixedTimeEquals"/>) because Octokit.Webhooks.AspNetCore takes one secret for the
/// whole app, while the lab has one per repository, chosen by the delivery's URL before the body is read.
/// </summary>
public static class GitHubDeliveries
{
    public const string SignatureHeader = "X-Hub-Signature-256";
    public const string DeliveryHeader = "X-GitHub-Delivery";
    public const string EventHeader = "X-GitHub-Event";

    /// <summary>True when <paramref name="header"/> is <c>sha256=</c> and the hex HMAC-SHA256 of the body under the secret (constant time).</summary>
    public static bool SignatureMatches(string secret, ReadOnlySpan<byte> body, string? header)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.Ordinal) || header.Length != prefix.Length + 64) return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The delivery's meaning; a malformed payload is refused with 400.</summary>
    public static HookEvent Parse(IDictionary<string, StringValues> headers, string body)
    {
        var parsed = WebhookHeaders.Parse(headers);
        var name = parsed.Event ?? "";
        if (name == "ping") return HookEvent.Ignored(name, null, "ping: the hook reaches the lab");
        if (name != "push")
            return HookEvent.Ignored(name, null, $"event '{HookEvent.Cut(name)}' is not one the lab takes (push)");
        WebhookEvent? webhookEvent;
        try
        {
            webhookEvent = new EventReader().DeserializeWebhookEvent(parsed, body);
        }
        catch (JsonException ex)
        {
            throw new HookRefusedException(400, "Malformed payload", $"not a GitHub {name} payload: {HookEvent.Cut(ex.Message)}");
        }
        catch (InvalidOperationException ex)
        {
            throw new HookRefusedException(400, "Malformed payload", $"not a GitHub {name} payload: {HookEvent.Cut(ex.Message)}");
        }
        switch (webhookEvent)
        {
            case PushEvent push:
                if (push.Repository?.FullName is not { Length: > 0 } project)
                    throw new HookRefusedException(400, "Malformed payload", "the push names no repository");
                // A push of several commits tests its head (after); a force-push's after is the new head.
                return HookEvent.FromRefUpdate(name, project, push.Ref, push.Deleted ? null : push.After, push.Deleted);
            default:
                throw new HookRefusedException(400, "Malformed payload", $"not a GitHub {name} payload");
        }
    }

    /// <summary>The library's event reader; the lab overrides nothing, it only deserializes.</summary>
    private sealed class EventReader : WebhookEventProcessor;
}
