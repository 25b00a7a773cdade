using System.Net;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Dashboard;

/// <summary>The verdict pages answer on the real server: lists render (empty or not), an unknown bug is a 404, a bad compare says why.</summary>
[Collection(LabCollection.Name)]
public sealed class VerdictPagesTests(LabFixture lab)
{
    [Theory]
    [InlineData("/bugs", "Bugs")]
    [InlineData("/bugs?state=fixed", "Bugs")]
    [InlineData("/regressions", "Regressions")]
    [InlineData("/calibration", "Calibration")]
    [InlineData("/compare", "Compare")]
    public async Task Get_VerdictPage_RendersWithTitle(string path, string heading)
    {
        using var client = lab.Client();

        var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"<h1>{heading}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownBug_NotFound()
    {
        using var client = lab.Client();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/bugs/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task Get_CompareWithBadIds_SaysWhy()
    {
        using var client = lab.Client();

        var html = await client.GetStringAsync("/compare?a=x&b=%3Cscript%3E");

        Assert.Contains("Give two run or job ids.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
    }
}
