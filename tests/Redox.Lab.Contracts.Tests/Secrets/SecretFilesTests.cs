using System.Diagnostics;
using Redox.Lab.Contracts.Secrets;

namespace Redox.Lab.Contracts.Tests.Secrets;

public sealed class SecretFilesTests
{
    [Fact]
    public void Read_FileWithTrailingNewline_SecretWithoutIt()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "s3cret\n");

            Assert.Equal("s3cret", SecretFiles.Read(file, "Lab:EnrolmentSecretFile"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Read_EmptyFile_ErrorNamesSetting()
    {
        var file = Path.GetTempFileName();
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => SecretFiles.Read(file, "Lab:EnrolmentSecretFile"));

            Assert.Contains("Lab:EnrolmentSecretFile", e.Message, StringComparison.Ordinal);
            Assert.Contains("empty", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ScrubEnvironment_SecretVariable_ChildProcessDoesNotInheritIt()
    {
        var name = "Lab__ScrubTest" + Guid.NewGuid().ToString("N")[..6];
        Environment.SetEnvironmentVariable(name, "leaked");
        Environment.SetEnvironmentVariable("Lab__ScrubKeep", "kept");
        try
        {
            var removed = SecretFiles.ScrubEnvironment(name.Replace("__", ":", StringComparison.Ordinal));

            Assert.Equal([name], removed);
            var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true };
            using var child = Process.Start(psi)!;
            var env = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            Assert.DoesNotContain("leaked", env, StringComparison.Ordinal);
            Assert.Contains("Lab__ScrubKeep=kept", env, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
            Environment.SetEnvironmentVariable("Lab__ScrubKeep", null);
        }
    }
}
