using System.Globalization;
using Harmont.Aot.Bench;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// bash bench/run.sh   (as root: it mounts the XFS these need; see bench/README.md)
// --paired N: only the alternating side-by-side table (the ratios), N rounds per pair.
// Whole-tree operations take from milliseconds to seconds: one invocation per iteration (Monitoring),
// in process, so a full run stays within minutes.
if (args is ["--paired", var roundsText])
{
    Paired.Run(int.Parse(roundsText, CultureInfo.InvariantCulture));
    return 0;
}

// --tunables N [clone|hash]: the tunables' candidates in N alternating rounds, and the value each would pick.
if (args is ["--tunables", var tunableRounds, .. var part])
{
    TunableRounds.Run(int.Parse(tunableRounds, CultureInfo.InvariantCulture), part is [var only] ? only : "all");
    return 0;
}

if (args is ["--host-start", var hostRoundsText] && OperatingSystem.IsLinux())
{
    HostStepStart.Run(int.Parse(hostRoundsText, CultureInfo.InvariantCulture));
    return 0;
}

var job = Job.Default
    .WithStrategy(RunStrategy.Monitoring)
    .WithLaunchCount(1)
    .WithWarmupCount(1)
    .WithIterationCount(int.TryParse(Environment.GetEnvironmentVariable("HARMONT_BENCH_ITERATIONS"), out var n) ? n : 5)
    .WithToolchain(InProcessEmitToolchain.Instance);
var config = DefaultConfig.Instance.AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();

Console.WriteLine();
Console.WriteLine("== side by side: median of the iterations (mean in brackets) ==");
var reports = summaries.SelectMany(s => s.Reports).Where(r => r.ResultStatistics is not null).ToList();
PrintPair(reports, "ReflinkCloneBenchmarks", "reflink clone", "cp -a --reflink=always", "target <= 1.0x");
PrintPair(reports, "CopyBenchmarks", "plain copy", "cp -a", "target <= 1.2x");
foreach (var strategy in new[] { "overlay", "fuse-overlayfs" })
{
    var small = Stats(reports, "OverlayMountBenchmarks", "mount + unmount", 1_000, strategy);
    var large = Stats(reports, "OverlayMountBenchmarks", "mount + unmount", 20_000, strategy);
    if (small is not null && large is not null)
    {
        Console.WriteLine(
            $"{strategy,-15} mount+unmount  1k files {Ms(small.Median),10}   20k files {Ms(large.Median),10}   " +
            $"20k/1k {large.Median / small.Median:0.00}x [{large.Mean / small.Mean:0.00}x]");
    }
}

return 0;

static void PrintPair(List<BenchmarkReport> reports, string type, string ours, string theirs, string target)
{
    foreach (var files in new[] { 1_000, 20_000 })
    {
        var a = Stats(reports, type, "harmont", files);
        var b = Stats(reports, type, "cp", files);
        if (a is not null && b is not null)
        {
            Console.WriteLine(
                $"{files,6} files  {ours,-16} {Ms(a.Median),10}   {theirs,-23} {Ms(b.Median),10}   " +
                $"ratio {a.Median / b.Median:0.00}x [{a.Mean / b.Mean:0.00}x] ({target})");
        }
    }
}

static BenchmarkDotNet.Mathematics.Statistics? Stats(List<BenchmarkReport> reports, string type, string description, int files, string? strategy = null) =>
    reports.FirstOrDefault(r =>
        r.BenchmarkCase.Descriptor.Type.Name == type
        && r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'') == description
        && Equals(r.BenchmarkCase.Parameters["Files"], files)
        && (strategy is null || Equals(r.BenchmarkCase.Parameters["Strategy"], strategy)))?.ResultStatistics;

static string Ms(double nanoseconds) => (nanoseconds / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " ms";
