using System.Diagnostics;
using System.Globalization;
using Harmont.Aot.Keys;
using Harmont.Aot.Tuning;

namespace Harmont.Aot.Bench;

/// <summary>
/// The tunables' table in alternating rounds (<c>--tunables N</c>): each round times every candidate once, in forward
/// and backward order by turns, so a shared machine's changing load falls on all alike; medians per candidate, and
/// the value <see cref="TunableChoice"/> (the rule <c>doctor --bench</c> applies) picks from them. Runs the same
/// operations as the BenchmarkDotNet classes.
/// </summary>
public static class TunableRounds
{
    private static readonly int[] Parallelisms = [1, 2, 4, 8];
    private static readonly int[] ReadSizes = [16 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20];
    private static readonly int[] BatchMinimums = [1, 16, 64, 256, 1024];

    public static void Run(int rounds, string part)
    {
        var defaults = Tunables.Default;
        if (part is "all" or "clone")
        {
            foreach (var fileSystem in new[] { "ext4", "xfs" })
            {
                foreach (var files in new[] { 5_000 })
                {
                    Table($"clone parallelism, {fileSystem}, {files / 1000}k files", rounds, defaults.CloneParallelism, DiskBench.Count, [.. Parallelisms.Select(p =>
                    {
                        var bench = new CloneParallelismBenchmarks { FileSystem = fileSystem, Files = files, Parallelism = p };
                        bench.Setup();
                        return (p, (Func<double>)(() => Paired.Time(bench.NextDestination, () => bench.Clone().GetAwaiter().GetResult(), bench.DeleteDestination)));
                    })]);
                }
            }
        }

        if (part is "all" or "hash")
        {
            using var small = HashTree.Make(10_000, 1536, 2560);
            Table("hash parallelism, 10k files read (memo off)", rounds, defaults.HashParallelism, DiskBench.Count, [.. Parallelisms.Select(p =>
                (p, Timed(() => small.HashAsync(defaults with { HashParallelism = p, HashMemo = false }, FileHashMemo.InMemory())))) ]);
            Table("hash parallelism, 10k files memo hits", rounds, defaults.HashParallelism, DiskBench.Count, [.. Parallelisms.Select(p =>
                (p, Timed(() => small.HashAsync(defaults with { HashParallelism = p }, small.Warm))))]);

            var source = new HashReadSizeBenchmarks();
            source.Setup();
            Table("hash read size, 5k-file source tree (~80 MiB, memo off)", rounds, defaults.HashReadBuffer, DiskBench.Size, [.. ReadSizes.Select(size =>
            {
                var bench = new HashReadSizeBenchmarks { ReadBuffer = size };
                bench.Setup();
                return (size, Timed(bench.Hash));
            })]);

            using var thousand = HashTree.Make(1_000, 1536, 2560);
            Table("hash batch minimum, 1k files memo hits (x20)", rounds, defaults.HashBatchMinimum, DiskBench.Count, [.. BatchMinimums.Select(minimum =>
                (minimum, Timed(async () =>
                {
                    for (var i = 0; i < 20; i++)
                    {
                        await thousand.HashAsync(defaults with { HashBatchMinimum = minimum }, thousand.Warm);
                    }
                })))], largerIsCheaper: true);

            var memo = new SourceHashBenchmarks();
            memo.Setup();
            try
            {
                var times = Alternate(rounds, [Timed(memo.Cold), Timed(memo.Warm), Timed(memo.Off)]);
                var choice = TunableChoice.PickMemo([.. times[1].Select(TimeSpan.FromMilliseconds)], [.. times[2].Select(TimeSpan.FromMilliseconds)]);
                Console.WriteLine($"== file hash memo, 10k files: {rounds} alternating rounds, medians ==");
                Console.WriteLine($"  cold (empty memo, saved) {Ms(Median(times[0]))}   hit (memo from disk) {Ms(Median(times[1]))}   off {Ms(Median(times[2]))}");
                Console.WriteLine($"  picks: {(choice.Value == 1 ? "on" : "off")} ({choice.Why})");
            }
            finally
            {
                memo.Cleanup();
            }
        }
    }

    private static void Table(string title, int rounds, int current, Func<int, string> format, (int Value, Func<double> Once)[] candidates, bool largerIsCheaper = false)
    {
        var times = Alternate(rounds, [.. candidates.Select(c => c.Once)]);
        var measured = candidates.Select((c, i) => new Measured(c.Value, [.. times[i].Select(TimeSpan.FromMilliseconds)])).ToList();
        var standing = measured.FirstOrDefault(m => m.Value == current)?.Median;
        Console.WriteLine($"== {title}: {rounds} alternating rounds, medians (load average {LoadAverage()}) ==");
        foreach (var m in measured)
        {
            var ratio = standing is { } d ? (m.Median / d).ToString("0.00", CultureInfo.InvariantCulture) + "x the default" : "";
            Console.WriteLine($"  {format(m.Value),8}{(m.Value == current ? "*" : " ")} {Ms(m.Median.TotalMilliseconds),11}  {ratio}");
        }

        var choice = TunableChoice.Pick(largerIsCheaper ? measured.AsEnumerable().Reverse().ToList() : measured, current, format);
        Console.WriteLine($"  picks: {format(choice.Value)} ({choice.Why})");
    }

    private static List<double>[] Alternate(int rounds, Func<double>[] candidates)
    {
        foreach (var once in candidates)
        {
            once(); // warm-up: JIT, page cache
        }

        var times = candidates.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < candidates.Length; k++)
            {
                var i = round % 2 == 0 ? k : candidates.Length - 1 - k;
                times[i].Add(candidates[i]());
            }
        }

        return times;
    }

    private static Func<double> Timed(Func<Task> work) => () => Paired.Time(() => { }, () => work().GetAwaiter().GetResult(), () => { });

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static double Median(List<double> values) => TunableChoice.Median([.. values.Select(TimeSpan.FromMilliseconds)]).TotalMilliseconds;

    private static string Ms(double milliseconds) => milliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
