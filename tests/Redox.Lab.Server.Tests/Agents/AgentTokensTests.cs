using System.Security.Cryptography;
using System.Text;
using Redox.Lab.Server.Agents;

namespace Redox.Lab.Server.Tests.Agents;

public sealed class AgentTokensTests
{
    [Fact]
    public void NewToken_Twice_DifferentAndUrlSafe()
    {
        var a = AgentTokens.NewToken();
        var b = AgentTokens.NewToken();

        Assert.NotEqual(a, b);
        Assert.Equal(43, a.Length); // 32 bytes, base64url without padding
        Assert.DoesNotContain('+', a);
        Assert.DoesNotContain('/', a);
    }

    [Fact]
    public void Hash_Token_IsSha256OfUtf8() =>
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("tok")), AgentTokens.Hash("tok"));

    [Theory]
    [InlineData("s3cret", "s3cret", true)]
    [InlineData("s3cre", "s3cret", false)]
    [InlineData("", "s3cret", false)]
    [InlineData(null, "s3cret", false)]
    [InlineData("", "", false)]
    [InlineData("anything", null, false)]
    public void SecretMatches_Cases(string? given, string? expected, bool matches) =>
        Assert.Equal(matches, AgentTokens.SecretMatches(given, expected));
}
