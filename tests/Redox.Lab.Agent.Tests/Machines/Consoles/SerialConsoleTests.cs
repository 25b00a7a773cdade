using System.Text;
using Redox.Lab.Agent.Machines;
using Redox.Lab.Agent.Machines.Consoles;
using Redox.Lab.Agent.Tests.Fakes;

namespace Redox.Lab.Agent.Tests.Machines.Consoles;

/// <summary>
/// The serial-port console on a pty pair (socat, as the PC bench wires a serial cable): a read pending
/// when the boot ends must end by cancellation or by closing the port, and a cable that goes away must
/// end the read with an error the reconnecting console handles.
/// </summary>
public sealed class SerialConsoleTests : IDisposable
{
    /// <summary>Only a bound for a hang; every step here completes at once.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("redox-lab-serial-").FullName;
    private readonly NullModem _cable;
    private readonly SerialConsole _link;

    public SerialConsoleTests()
    {
        _cable = new NullModem(Path.Combine(_dir, "cable"));
        _link = new SerialConsole(new SerialConsoleSpec(_cable.HostEnd, 115200, SerialFraming.Default));
    }

    public void Dispose()
    {
        _cable.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // socat may still be removing its links.
        }
    }

    [Fact]
    public async Task ReadAsync_BytesFromThePc_Read()
    {
        await using var connection = await _link.OpenAsync(CancellationToken.None);
        await using var pc = new FileStream(_cable.PcEnd, FileMode.Open, FileAccess.Write);
        await pc.WriteAsync(Encoding.ASCII.GetBytes("@@LAB end\n"));
        await pc.FlushAsync();

        var text = new StringBuilder();
        var buffer = new byte[64];
        while (!text.ToString().Contains('\n', StringComparison.Ordinal))
        {
            var n = await connection.Stream.ReadAsync(buffer).AsTask().WaitAsync(Hang);
            Assert.NotEqual(0, n);
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        Assert.Equal("@@LAB end\n", text.ToString());
    }

    [Fact]
    public async Task ReadAsync_PendingThenCancelled_EndsCancelledAndPortCloses()
    {
        var connection = await _link.OpenAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var read = connection.Stream.ReadAsync(new byte[64], cancel.Token).AsTask();
        Assert.False(read.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Hang));
        await connection.DisposeAsync().AsTask().WaitAsync(Hang);
    }

    [Fact]
    public async Task DisposeAsync_ReadPending_ReturnsAndTheReadEnds()
    {
        var connection = await _link.OpenAsync(CancellationToken.None);
        var read = connection.Stream.ReadAsync(new byte[64], CancellationToken.None).AsTask();
        Assert.False(read.IsCompleted);

        await Task.Run(async () => await connection.DisposeAsync()).WaitAsync(Hang);

        await Assert.ThrowsAnyAsync<ObjectDisposedException>(() => read.WaitAsync(Hang));
    }

    [Fact]
    public async Task ReadAsync_CableUnpluggedWhilePending_FailsSoTheConsoleReattaches()
    {
        var connection = await _link.OpenAsync(CancellationToken.None);
        var read = connection.Stream.ReadAsync(new byte[64], CancellationToken.None).AsTask();

        _cable.Dispose();

        // ReconnectingConsole takes IOException and ObjectDisposedException as "the link dropped".
        var failure = await Record.ExceptionAsync(() => read.WaitAsync(Hang));
        Assert.True(failure is IOException or ObjectDisposedException, $"{failure}");
        await Task.Run(async () => await connection.DisposeAsync()).WaitAsync(Hang);
    }
}
