using Redox.Lab.Agent.Enrolment;
using Redox.Lab.Agent.Server;
using Redox.Lab.Agent.Tests.Fakes;

namespace Redox.Lab.Agent.Tests.Enrolment;

public sealed class AgentCredentialsTests : IDisposable
{
    private readonly AgentHarness _agent = new(TimeProvider.System);

    public void Dispose() => _agent.Dispose();

    [Fact]
    public async Task GetTokenAsync_NoTokenFile_EnrolsAndSavesOwnerOnlyFile()
    {
        var token = await _agent.Credentials.GetTokenAsync(CancellationToken.None);

        Assert.Equal("token-1", token);
        Assert.Equal(1, _agent.Server.Enrolments);
        var path = _agent.Tokens.PathForServer;
        Assert.StartsWith(_agent.StateDir, path, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("token-1", _agent.Tokens.Load()!.Token);
    }

    [Fact]
    public async Task GetTokenAsync_TokenFileForThisServer_UsedWithoutEnrolling()
    {
        _agent.Tokens.Save(new StoredToken(_agent.Options.Server, Guid.NewGuid(), "saved"));
        _agent.Server.AddToken("saved");

        await _agent.Client.PutMachinesAsync([], CancellationToken.None);

        Assert.Equal(0, _agent.Server.Enrolments);
    }

    [Fact]
    public async Task GetTokenAsync_EnrolsWithMachines_ServerSeesThem()
    {
        await _agent.Credentials.GetTokenAsync(CancellationToken.None);

        var machines = Assert.Single(_agent.Server.MachineUpdates);
        Assert.Equal("fake-0", Assert.Single(machines).Name);
    }

    [Fact]
    public async Task GetTokenAsync_WrongSecret_ThrowsClearError()
    {
        _agent.Options.EnrolmentSecret = "wrong";

        var e = await Assert.ThrowsAsync<AgentAuthException>(() => _agent.Credentials.GetTokenAsync(CancellationToken.None));

        Assert.Contains("enrolment secret", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_agent.Tokens.PathForServer));
    }
}
