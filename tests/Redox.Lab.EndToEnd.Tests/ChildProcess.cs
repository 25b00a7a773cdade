using System.Diagnostics;
using System.Text;

namespace Redox.Lab.EndToEnd.Tests;

/// <summary>A real process of the lab (server, agent, migrator) with its output kept for diagnostics.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => _process = process;

    public string Name { get; private init; } = "";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>Starts <c>dotnet &lt;dll&gt; args</c> in the DLL's folder with extra environment variables.</summary>
    public static ChildProcess StartDll(string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> env)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{name}: {dll} is not built", dll);
        }

        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var child = new ChildProcess(new Process { StartInfo = psi }) { Name = name };
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Kills the process and its children at once, as a crash or power cut would.</summary>
    /// <summary>SIGKILL to this process alone, not its children: as an agent that crashes or is OOM-killed.</summary>
    public void KillProcessOnly()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public string Tail(int lines = 40)
    {
        var all = Output.Split('\n');
        return $"--- {Name} (last {lines} lines)\n" + string.Join('\n', all.TakeLast(lines));
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
