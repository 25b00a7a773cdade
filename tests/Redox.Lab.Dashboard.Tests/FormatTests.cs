namespace Redox.Lab.Dashboard.Tests;

public sealed class FormatTests
{
    [Theory]
    [InlineData("job:0190b8a0-0000-7000-8000-000000000000", "job:0190b8a0-0000-7000-8000-000000000000")]
    [InlineData("import:a,import:b", "import:a and 1 more reference")]
    [InlineData("import:a,import:b,import:c", "import:a and 2 more references")]
    public void ProfileReference_OneOrAGroup_GroupShownByItsFirstAndTheCount(string reference, string shown)
    {
        Assert.Equal(shown, Format.ProfileReference(reference));
    }
}
