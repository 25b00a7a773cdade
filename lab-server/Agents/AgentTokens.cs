using System.Security.Cryptography;
using System.Text;

namespace Redox.Lab.Server.Agents;

/// <summary>Agent bearer tokens and the enrolment secret check.</summary>
public static class AgentTokens
{
    /// <summary>A new token: 32 random bytes, base64url.</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the database keeps instead of the token.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// Compares in constant time; hashing first makes the comparison independent of the lengths too.
    /// An empty expected secret matches nothing (enrolment disabled).
    /// </summary>
    public static bool SecretMatches(string? given, string? expected) =>
        !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(Hash(given ?? ""), Hash(expected));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
