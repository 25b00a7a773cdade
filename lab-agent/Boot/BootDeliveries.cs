using System.Collections.Concurrent;
using System.Security.Cryptography;
using Redox.Lab.Agent.Machines;

namespace Redox.Lab.Agent.Boot;

/// <summary>
/// What each PC (by MAC) is to boot next, and whether it fetched it. A PC with a delivery gets its
/// job's script and files; any other MAC gets "no job: power off". Files are served only under the
/// delivery's random token, so a PC (or anyone on the network) can fetch only the files of the boot
/// being delivered, and none after it.
/// </summary>
public sealed class BootDeliveries(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Delivery> _byMac = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every fetch, for tests and <c>lab-agent check</c>: time, MAC, what.</summary>
    public event Action<DateTimeOffset, string, string>? Fetched;

    /// <summary>Makes <paramref name="media"/> the next boot of <paramref name="pc"/>; replaces any earlier delivery.</summary>
    public Delivery Prepare(PcSpec pc, BootMedia media, string label)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (media.IsDiskImage)
        {
            files["disk.img"] = media.Image;
        }
        else
        {
            files["kernel"] = media.Image;
            for (var i = 0; i < media.Modules.Count; i++)
                files[$"module{i}"] = media.Modules[i];
        }

        foreach (var path in files.Values)
        {
            if (!File.Exists(path))
                throw new LabInfraException($"{pc.Name}: boot file {path} does not exist");
        }

        var delivery = new Delivery(pc, media, label, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), files);
        _byMac[pc.MacText] = delivery;
        return delivery;
    }

    /// <summary>Back to "no job" for this PC (after its boot ended).</summary>
    public void Clear(Delivery delivery) => _byMac.TryRemove(new KeyValuePair<string, Delivery>(delivery.Pc.MacText, delivery));

    public Delivery? Current(string mac) => _byMac.GetValueOrDefault(Normalise(mac));

    /// <summary>The script fetched by <paramref name="mac"/>: its delivery's, or null (no job).</summary>
    public Delivery? ScriptFetched(string mac)
    {
        var key = Normalise(mac);
        Fetched?.Invoke(time.GetUtcNow(), key, "script");
        var d = _byMac.GetValueOrDefault(key);
        d?.MarkScript();
        return d;
    }

    /// <summary>The file path behind a fetch, when the token is the current delivery's; records the fetch.</summary>
    public string? FileFetched(string mac, string token, string name)
    {
        var key = Normalise(mac);
        if (_byMac.GetValueOrDefault(key) is not { } d || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(d.Token), System.Text.Encoding.ASCII.GetBytes(token)))
            return null;
        if (!d.Files.TryGetValue(name, out var path))
            return null;
        Fetched?.Invoke(time.GetUtcNow(), key, name);
        d.MarkFile(name);
        return path;
    }

    /// <summary>The PC's script reports that a step failed (iPXE could not fetch or start the kernel or disk).</summary>
    public bool BootFailed(string mac, string token, string step)
    {
        var key = Normalise(mac);
        if (_byMac.GetValueOrDefault(key) is not { } d || d.Token != token)
            return false;
        Fetched?.Invoke(time.GetUtcNow(), key, $"failed:{step}");
        d.MarkFailed(step);
        return true;
    }

    public static string Normalise(string mac) => MachinesFile.ParseMac(mac) is { } m ? MachinesFile.FormatMac(m) : mac.ToLowerInvariant();
}

/// <summary>One boot to deliver to one PC. <see cref="Delivered"/> completes once the PC fetched its script and every file.</summary>
public sealed class Delivery(PcSpec pc, BootMedia media, string label, string token, IReadOnlyDictionary<string, string> files)
{
    private readonly HashSet<string> _missing = [.. files.Keys];
    private readonly TaskCompletionSource _script = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PcSpec Pc { get; } = pc;

    public BootMedia Media { get; } = media;

    public string Label { get; } = label;

    public string Token { get; } = token;

    public IReadOnlyDictionary<string, string> Files { get; } = files;

    public Task ScriptTask => _script.Task;

    public Task Delivered => _delivered.Task;

    /// <summary>Completes with the failed step when the PC's script reports a failure: no need to wait for the delivery timeout.</summary>
    public Task<string> Failed => _failed.Task;

    /// <summary>What the PC has not fetched yet, for the infra-error message.</summary>
    public IReadOnlyList<string> Missing
    {
        get
        {
            lock (_missing)
                return [.. (_script.Task.IsCompleted ? [] : new[] { "its boot script" }), .. _missing.Order()];
        }
    }

    internal void MarkScript()
    {
        _script.TrySetResult();
        Check();
    }

    internal void MarkFailed(string step) => _failed.TrySetResult(step);

    internal void MarkFile(string name)
    {
        lock (_missing)
            _missing.Remove(name);
        Check();
    }

    private void Check()
    {
        bool done;
        lock (_missing)
            done = _missing.Count == 0 && _script.Task.IsCompleted;
        if (done)
            _delivered.TrySetResult();
    }
}
