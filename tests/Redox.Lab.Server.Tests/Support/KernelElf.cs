using System.Globalization;

namespace Redox.Lab.Server.Tests.Support;

/// <summary>The real reference kernel, built once per test run with <c>make -C kernel BUILD=&lt;temp&gt;</c>, and its symbols as <c>nm</c> reads them.</summary>
internal sealed class KernelElf
{
    private static readonly Lazy<Task<KernelElf>> Built = new(BuildAsync);

    private KernelElf(string path, byte[] bytes, IReadOnlyDictionary<string, ulong> functions)
    {
        Path = path;
        Bytes = bytes;
        Functions = functions;
    }

    public string Path { get; }

    public byte[] Bytes { get; }

    /// <summary>Text symbols (<c>nm</c> types T and t) by name.</summary>
    public IReadOnlyDictionary<string, ulong> Functions { get; }

    public static Task<KernelElf> GetAsync() => Built.Value;

    /// <summary>The instruction's mnemonic at <paramref name="address"/> as <c>objdump -M intel</c> decodes it.</summary>
    public async Task<string> ObjdumpMnemonicAsync(ulong address)
    {
        var text = await Repo.RunAsync("objdump", null, "-d", "-M", "intel", "--no-show-raw-insn",
            $"--start-address=0x{address:x}", $"--stop-address=0x{address + 16:x}", Path);
        var line = text.Split('\n').First(l => l.TrimStart().StartsWith($"{address:x}:", StringComparison.Ordinal));
        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ', '\t')[0];
    }

    private static async Task<KernelElf> BuildAsync()
    {
        var build = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "redox-lab-kernel-" + Guid.NewGuid().ToString("N")[..8]);
        // The build directory lives as long as the test run: the tests read the ELF by path.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(build, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        await Repo.RunAsync("make", null, "-s", "-C", System.IO.Path.Combine(Repo.Root, "kernel"), $"BUILD={build}");
        var elf = System.IO.Path.Combine(build, "kernel.elf");
        var nm = await Repo.RunAsync("nm", null, elf);
        var functions = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in nm.Split('\n'))
        {
            var parts = line.Trim().Split(' ');
            if (parts.Length == 3 && parts[1] is "T" or "t")
                functions.TryAdd(parts[2], ulong.Parse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        }
        return new KernelElf(elf, await File.ReadAllBytesAsync(elf), functions);
    }
}
