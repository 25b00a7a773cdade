using System.Diagnostics;
using System.Globalization;
using System.Text;
using Redox.Lab.Server.Profiles;

// bench/fold: generate perf-script text, fold it (see run.sh, which prints the figures side by side).
//   generate <file> <MB>     realistic perf-script text: deep kernel stacks, long Rust and C++ names, many stacks
//   fold <file> [--out F] [--pid|--tid|--addrs|--kernel|--jit|--all|--all-events|--perl|--event-filter=E] [--repeat N]
//                            fold on one thread; prints to stderr "fold-ms <wall ms> cpu-ms <CPU ms> mb <MB> ... peak-rss-kib <KiB>"
//                            and the folded stacks to --out (default: stdout)
return args switch
{
    ["generate", var file, var mb] => Generate(file, double.Parse(mb, CultureInfo.InvariantCulture)),
    ["fold", var file, .. var rest] => Fold(file, rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: generate <file> <MB> | fold <file> [options]");
    return 2;
}

static int Fold(string file, string[] rest)
{
    var options = new PerfFoldOptions();
    string? output = "-";
    var repeat = 1;
    for (var i = 0; i < rest.Length; i++)
    {
        options = rest[i] switch
        {
            "--pid" => options with { IncludePid = true },
            "--tid" => options with { IncludeTid = true },
            "--addrs" => options with { IncludeAddresses = true },
            "--kernel" => options with { AnnotateKernel = true },
            "--jit" => options with { AnnotateJit = true },
            "--all" => options with { AnnotateKernel = true, AnnotateJit = true },
            "--all-events" => options with { AllEvents = true },
            "--perl" => options with { TrimSignatures = true },
            var e when e.StartsWith("--event-filter=", StringComparison.Ordinal) => options with { EventFilter = e["--event-filter=".Length..] },
            "--out" => options,
            "--repeat" => options,
            var other => throw new ArgumentException($"unknown option {other}"),
        };
        if (rest[i] == "--out") output = rest[++i];
        if (rest[i] == "--repeat") repeat = int.Parse(rest[++i], CultureInfo.InvariantCulture);
    }

    var bytes = new FileInfo(file).Length;
    for (var r = 0; r < repeat; r++)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var folder = new PerfScriptFolder(options);
        using (var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            folder.Read(input);
        var folded = output is null ? folder.Finish(Stream.Null) : WriteTo(folder, output, r == repeat - 1);
        sw.Stop();
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fold-ms {sw.Elapsed.TotalMilliseconds:0.0} cpu-ms {cpuMs:0.0} mb {bytes / 1e6:0.0} samples {folded.Samples} stacks {folded.Stacks} tables-kib {folder.Footprint / 1024} peak-rss-kib {PeakRssKib()}"));
    }
    return 0;
}

// The folded stacks go straight to the file (or stdout for "-"); earlier repeats write to nowhere.
static FoldedProfile WriteTo(PerfScriptFolder folder, string output, bool last)
{
    if (!last) return folder.Finish(Stream.Null);
    using var stream = output == "-" ? Console.OpenStandardOutput() : new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    return folder.Finish(stream);
}

static long PeakRssKib()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    return -1;
}

static int Generate(string file, double megabytes)
{
    var random = new Random(12);
    string[] comms = ["kernel", "swapper", "kworker/u8:3", "V8 WorkerThread", "rustc", "cc1plus", "redox-init", "ld-linux"];
    string[] rustTypes = ["alloc::collections::btree::map::BTreeMap<K,V,A>", "hashbrown::raw::RawTable<T,A>", "rmm::allocator::frame::buddy::BuddyAllocator<A>",
        "core::iter::adapters::map::Map<I,F>", "kernel::context::memory::AddrSpaceWrapper", "syscall::io::mmio::Mmio<T>"];
    string[] rustTraits = ["core::ops::drop::Drop", "core::iter::traits::iterator::Iterator", "rmm::allocator::frame::FrameAllocator", "core::clone::Clone"];
    string[] rustMethods = ["drop", "next", "allocate", "clone", "fold", "free", "insert_tail"];

    // A call graph: kernel functions (entry, syscalls, mm, sched) and user functions (Rust, C++).
    var kernel = new List<string>();
    for (var i = 0; i < 1500; i++)
        kernel.Add($"{Pick(random, ["__x64_sys", "do", "handle", "page", "tlb_flush", "ext4", "blk_mq", "sched", "kmem_cache", "copy"])}_{Word(random)}_{i}");
    var user = new List<string>();
    for (var i = 0; i < 2500; i++)
    {
        user.Add(random.Next(3) switch
        {
            0 => $"<{Pick(random, rustTypes)} as {Pick(random, rustTraits)}>::{Pick(random, rustMethods)}_{i}",
            1 => $"std::_Function_handler<void (int, std::basic_string<char, std::char_traits<char>, std::allocator<char> > const&), app::{Word(random)}::{{lambda(int)#{i}}}>::_M_invoke(std::_Any_data const&, int&&)",
            _ => $"{Word(random)}::{Word(random)}::{Word(random)}_{i}",
        });
    }
    var kernelAddress = kernel.Select(_ => 0xffffffff81000000UL + (ulong)random.Next(0, 0x1000000) * 16).ToArray();
    var userAddress = user.Select(_ => 0x55d4a0000000UL + (ulong)random.Next(0, 0x400000) * 16).ToArray();
    string[] dsos = ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/app", "/usr/lib/libstd-8f2a.so"];

    // 4,000 distinct call paths (a real profile has thousands of distinct stacks, not one per sample), used
    // with a skewed frequency; kernel paths 8..48 frames deep, three in four with 3..30 user frames below.
    var paths = new List<(int[] Kernel, int[] User)>();
    for (var p = 0; p < 4000; p++)
    {
        var k = new int[random.Next(8, 48)];
        var hot = random.Next(60);
        for (var d = 0; d < k.Length; d++) k[d] = (hot * 31 + d * 7 + (d < 4 ? random.Next(kernel.Count) : 0)) % kernel.Count;
        var u = random.Next(4) == 0 ? [] : new int[random.Next(3, 30)];
        var uhot = random.Next(120);
        for (var d = 0; d < u.Length; d++) u[d] = (uhot * 13 + d * 11 + (d < 3 ? random.Next(user.Count) : 0)) % user.Count;
        paths.Add((k, u));
    }

    using var output = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20);
    var target = (long)(megabytes * 1e6);
    long written = 0;
    var time = 1000.0;
    var sb = new StringBuilder();
    while (written < target)
    {
        sb.Clear();
        var comm = Pick(random, comms);
        var pid = 1000 + random.Next(50);
        time += random.NextDouble() / 1000;
        sb.Append(CultureInfo.InvariantCulture, $"{comm} {pid}/{pid + random.Next(4)} [{random.Next(4):000}] {time:0.000000}:     250000 cpu-clock:\n");
        var (kpath, upath) = paths[(int)(paths.Count * Math.Pow(random.NextDouble(), 3))];
        for (var d = 0; d < kpath.Length; d++)
        {
            // The leaf's instruction pointer varies inside its function; return addresses are fixed per call site.
            var f = kpath[d];
            var offset = (ulong)(d == 0 ? random.Next(64) : (f + d) % 64) + 0x10;
            sb.Append(CultureInfo.InvariantCulture, $"\t{kernelAddress[f] + offset:x} {kernel[f]}+0x{offset:x} ([kernel.kallsyms])\n");
        }
        for (var d = 0; d < upath.Length; d++)
        {
            var f = upath[d];
            var offset = (ulong)((f + d) % 128) + 0x20;
            if (f % 97 == 0) sb.Append(CultureInfo.InvariantCulture, $"\t{userAddress[f] + offset:x} [unknown] (/usr/lib/libjit-stubs.so)\n");
            else sb.Append(CultureInfo.InvariantCulture, $"\t{userAddress[f] + offset:x} {user[f]}+0x{offset:x} ({dsos[f % 3]})\n");
        }
        sb.Append('\n');
        output.Write(sb);
        written += Encoding.UTF8.GetByteCount(sb.ToString());
    }
    Console.Error.WriteLine($"generated {written / 1e6:0.0} MB");
    return 0;
}

static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

static string Word(Random random)
{
    string[] words = ["buddy", "frame", "context", "switch", "page", "walk", "map", "unmap", "range", "node", "slab", "queue", "event", "scheme", "inode"];
    return words[random.Next(words.Length)];
}
