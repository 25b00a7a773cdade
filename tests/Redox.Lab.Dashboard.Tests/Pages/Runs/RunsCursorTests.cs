using Redox.Lab.Dashboard.Pages.Runs;

namespace Redox.Lab.Dashboard.Tests.Pages.Runs;

public sealed class RunsCursorTests
{
    [Fact]
    public void TryParse_CursorOfARun_RoundTrips()
    {
        var at = new DateTimeOffset(2026, 12, 1, 17, 30, 5, 123, TimeSpan.Zero).AddTicks(4567);
        var id = Guid.NewGuid();

        Assert.True(RunsCursor.TryParse(RunsCursor.Of(at, id), out var parsedAt, out var parsedId));
        Assert.Equal(at, parsedAt);
        Assert.Equal(id, parsedId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("abc.0123456789abcdef0123456789abcdef")]
    [InlineData("-5.0123456789abcdef0123456789abcdef")]
    [InlineData("99999999999999999999.0123456789abcdef0123456789abcdef")]
    [InlineData("5.not-a-guid")]
    public void TryParse_Malformed_False(string? cursor) =>
        Assert.False(RunsCursor.TryParse(cursor, out _, out _));
}
