using System.Diagnostics;
using System.Globalization;
using System.Text;
using Redox.Lab.Server.Profiles;

// bench/fold: generate perf-script text, fold it (see run.sh, which prints the figures side by side).
//   generate <file> <MB>     realistic perf-script text: deep kernel stacks, long Rust and C++ names, many stacks
//   fold <file> [--out F] [--pid|--tid|--addrs|--kernel|--jit|--all|--all-events|--perl|--event-filter=E] [--repeat N]
//                            fold on one thread; prints to stderr "fold-ms <ms> mb <MB> peak-rss-kib <KiB> ..."
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
    string? output = null;
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
    FoldedProfile? folded = null;
    for (var r = 0; r < repeat; r++)
    {
        var sw = Stopwatch.StartNew();
        using (var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            folded = PerfScriptFolder.Fold(input, options);
        sw.Stop();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fold-ms {sw.Elapsed.TotalMilliseconds:0.0} mb {bytes / 1e6:0.0} samples {folded.Samples} stacks {folded.Stacks} peak-rss-kib {PeakRssKib()}"));
    }
    if (output is null)
    {
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(Encoding.UTF8.GetBytes(folded!.Text));
    }
    else File.WriteAllText(output, folded!.Text);
    return 0;
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
    var kernelAddress = kernel.Select(_ => 0xffffffff81000000UL + (ulong)random.Next(0, 0x1000000)).ToArray();
    var userAddress = user.Select(_ => 0x55d4a0000000UL + (ulong)random.Next(0, 0x4000000)).ToArray();
    string[] dsos = ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/app", "/usr/lib/libstd-8f2a.so", "[unknown]"];

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
        // Kernel part: 6..40 frames from a few hot paths, innermost first.
        var kernelDepth = random.Next(6, 40);
        var path = random.Next(200);
        for (var d = 0; d < kernelDepth; d++)
        {
            var f = (path * 7 + d * 13 + (d > kernelDepth - 3 ? random.Next(30) : 0)) % kernel.Count;
            sb.Append(CultureInfo.InvariantCulture, $"\t{kernelAddress[f] + (ulong)random.Next(8) * 4:x} {kernel[f]}+0x{random.Next(8) * 4 + 0x10:x} ([kernel.kallsyms])\n");
        }
        if (random.Next(4) > 0)
        {
            var userDepth = random.Next(3, 25);
            var upath = random.Next(400);
            for (var d = 0; d < userDepth; d++)
            {
                var f = (upath * 11 + d * 17) % user.Count;
                var dso = dsos[f % 3];
                if (random.Next(40) == 0) sb.Append(CultureInfo.InvariantCulture, $"\t{userAddress[f]:x} [unknown] ({dsos[3]})\n");
                else sb.Append(CultureInfo.InvariantCulture, $"\t{userAddress[f] + (ulong)random.Next(4) * 8:x} {user[f]}+0x{random.Next(4) * 8 + 0x20:x} ({dso})\n");
            }
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
