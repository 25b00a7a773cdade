namespace Redox.Lab.Agent.Machines.Consoles;

/// <summary>
/// Opens a PC's console once: a readable stream of the bytes the PC sends, which ends (or throws
/// <see cref="IOException"/>) when the link drops. <see cref="ReconnectingConsole"/> opens it again.
/// </summary>
public interface IConsoleLink
{
    /// <summary>For logs and <c>lab-agent check</c>: "tcp telnet 127.0.0.1:3001".</summary>
    string Describe { get; }

    /// <summary>Attaches to the console. Throws <see cref="ConsoleException"/> when it cannot.</summary>
    Task<ConsoleConnection> OpenAsync(CancellationToken cancellationToken);
}

/// <summary>An open console: read <see cref="Stream"/>; disposing detaches (closes the socket, port or ipmitool).</summary>
public sealed class ConsoleConnection(Stream stream, Func<ValueTask> close) : IAsyncDisposable
{
    public Stream Stream { get; } = stream;

    public ValueTask DisposeAsync() => close();
}

/// <summary>The console cannot be attached: an infrastructure failure, retried by the <c>console-attach</c> pipeline.</summary>
public sealed class ConsoleException(string message, Exception? inner = null) : Exception(message, inner);
