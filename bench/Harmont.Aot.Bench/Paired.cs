using System.Diagnostics;
using System.Globalization;

namespace Harmont.Aot.Bench;

/// <summary>
/// The side-by-side table: each pair measured in alternating rounds (ours, theirs, theirs, ours, …),
/// so a shared machine's changing load falls on both sides alike; medians, and the median of the
/// per-round ratios. Runs the same methods as the BenchmarkDotNet classes.
/// </summary>
public static class Paired
{
    public static void Run(int rounds)
    {
        Console.WriteLine($"== side by side: {rounds} alternating rounds per pair; medians, ratio = median of per-round ratios ==");
        foreach (var (label, target, create) in new (string, string, Func<TreeCloneBenchmarks>)[]
        {
            ("reflink clone   harmont vs cp -a --reflink=always", "target <= 1.0x", () => new ReflinkCloneBenchmarks()),
            ("plain copy      harmont vs cp -a                 ", "target <= 1.2x", () => new CopyBenchmarks()),
        })
        {
            foreach (var files in new[] { 1_000, 20_000 })
            {
                var bench = create();
                bench.Files = files;
                bench.Setup();
                Compare(
                    $"{files,6} files  {label}",
                    rounds,
                    () => Time(bench.NextDestination, () => bench.Harmont().GetAwaiter().GetResult(), bench.DeleteDestination),
                    () => Time(bench.NextDestination, bench.Coreutils, bench.DeleteDestination),
                    target);
            }
        }

        foreach (var strategy in new[] { "overlay", "fuse-overlayfs" })
        {
            var small = new OverlayMountBenchmarks { Files = 1_000, Strategy = strategy };
            var large = new OverlayMountBenchmarks { Files = 20_000, Strategy = strategy };
            small.Setup();
            large.Setup();
            Compare(
                $"{strategy,-15} mount+unmount 20k-file lower vs 1k-file lower   ",
                rounds,
                () => Time(large.NextLayer, () => large.MountAndUnmount().GetAwaiter().GetResult(), large.DeleteLayer) / 20,
                () => Time(small.NextLayer, () => small.MountAndUnmount().GetAwaiter().GetResult(), small.DeleteLayer) / 20,
                "size-independent: ~1.0x");
        }
    }

    private static void Compare(string label, int rounds, Func<double> ours, Func<double> theirs, string target)
    {
        // One untimed warm-up each: JIT, page cache.
        ours();
        theirs();
        var a = new List<double>();
        var b = new List<double>();
        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            double x, y;
            if (round % 2 == 0)
            {
                x = ours();
                y = theirs();
            }
            else
            {
                y = theirs();
                x = ours();
            }

            a.Add(x);
            b.Add(y);
            ratios.Add(x / y);
        }

        Console.WriteLine(
            $"{label}  {Ms(Median(a)),10} vs {Ms(Median(b)),10}   ratio {Median(ratios).ToString("0.00", CultureInfo.InvariantCulture)}x ({target})");
    }

    /// <summary>Milliseconds <paramref name="work"/> takes, with its setup and cleanup outside the clock.</summary>
    internal static double Time(Action setup, Action work, Action cleanup)
    {
        setup();
        var clock = Stopwatch.StartNew();
        work();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        cleanup();
        return elapsed;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
