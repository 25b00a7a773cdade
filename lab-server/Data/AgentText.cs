namespace Redox.Lab.Server.Data;

/// <summary>
/// Text that came from a kernel's console, made storable: PostgreSQL text and jsonb cannot hold NUL
/// (not even as a JSON <c>\u0000</c> escape), so NUL becomes U+FFFD, as the agent already shows
/// undecodable bytes.
/// </summary>
internal static class AgentText
{
    public static string Storable(string text) =>
        text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', '\uFFFD') : text;

    /// <summary>The values made storable; keys are marker keys, which the console parser already limits to <c>[a-z0-9_.-]</c>.</summary>
    public static IReadOnlyDictionary<string, string> Storable(IReadOnlyDictionary<string, string> fields) =>
        fields.Values.Any(v => v.Contains('\0', StringComparison.Ordinal))
            ? fields.ToDictionary(kv => kv.Key, kv => Storable(kv.Value), StringComparer.Ordinal)
            : fields;
}
