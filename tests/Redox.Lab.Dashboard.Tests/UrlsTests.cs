namespace Redox.Lab.Dashboard.Tests;

public sealed class UrlsTests
{
    [Fact]
    public void Query_NullAndSpecialValues_OmittedAndEscaped() =>
        Assert.Equal("/runs?branch=feat%2Fa%26b&outcome=kernel-panic", Urls.Query("/runs", ("repository", null), ("branch", "feat/a&b"), ("outcome", "kernel-panic")));

    [Theory]
    [InlineData("https://example.org/redox/kernel.git", "kernel")]
    [InlineData("/srv/git/kernel/", "kernel")]
    [InlineData("kernel", "kernel")]
    public void RepoName_UrlOrPath_LastSegmentWithoutGit(string url, string expected) =>
        Assert.Equal(expected, Urls.RepoName(url));

    [Fact]
    public void Console_WithLine_LinksToTheLineAnchor() =>
        Assert.EndsWith("/console?line=42#L42", Urls.Console(Guid.Empty, 42), StringComparison.Ordinal);
}
