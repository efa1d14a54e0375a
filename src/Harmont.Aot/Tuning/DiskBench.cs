using System.Diagnostics;
using Harmont.Aot.Keys;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tuning;

/// <summary>A candidate's label and its median time.</summary>
internal sealed record Figure(string Label, TimeSpan Median);

/// <summary>One tunable as measured on one disk: the median per candidate over <paramref name="Rounds"/> rounds, and what the measurement picks.</summary>
internal sealed record TunableReport(string Name, string Default, IReadOnlyList<Figure> Figures, int Rounds, string Pick, string Why);

/// <summary>What <c>doctor --bench</c> measured in one directory.</summary>
internal sealed record DiskBenchResult(string Directory, bool Reflink, int Files, long Bytes, IReadOnlyList<TunableReport> Tunables);

/// <summary>
/// The short version of the tunables benchmarks (bench/README.md) for <c>doctor --bench</c>: a probe tree on the
/// user's own disk, each candidate timed through the product's own cloner and hasher, in rounds that alternate
/// the candidates' order so a changing load falls on all alike. A few seconds in all.
/// </summary>
internal static class DiskBench
{
    /// <summary>Files in the probe tree: four in five 0.5–16 KiB, the fifth 16–48 KiB; ~6 MiB in all.</summary>
    public const int ProbeFiles = 500;

    /// <summary>The most timed rounds per candidate, after one untimed warm-up.</summary>
    public const int Rounds = 5;

    // Past this, a tunable gets no further round (it has at least one): a slow disk shortens the bench, not the answer's form.
    private static readonly TimeSpan CloneBudget = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan HashBudget = TimeSpan.FromSeconds(1);

    private static readonly int[] ParallelismCandidates = [1, 2, 4, 8];
    private static readonly int[] ReadBufferCandidates = [16 << 10, 64 << 10, 128 << 10, 1 << 20];
    private static readonly int[] BatchCandidates = [16, 64, 256, 1024];

    // A pass of memo hits over the probe tree takes a millisecond or two, short enough for one hiccup to decide it.
    private const int BatchPasses = 10;

    /// <summary>Measures every tunable in a scratch directory under <paramref name="directory"/>, removed again after.</summary>
    /// <param name="directory">Where runs put workspaces: the work dir.</param>
    /// <param name="reflink">Whether workspaces there are reflinked (else copied).</param>
    /// <param name="cancellationToken">Stops between two timed operations.</param>
    public static async Task<DiskBenchResult> RunAsync(string directory, bool reflink, CancellationToken cancellationToken)
    {
        var root = Path.Combine(directory, $".bench-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            var tree = Path.Combine(root, "tree");
            var (listing, bytes) = MakeTree(tree);
            var made = DateTime.UtcNow;
            var defaults = Tunables.Default;
            var scratch = 0;
            string Scratch(string name) => Path.Combine(root, $"{name}-{scratch++}");

            async Task<TimeSpan> Clone(Tunables tunables)
            {
                var target = Scratch("clone");
                var clock = Stopwatch.StartNew();
                await new TreeCloner(reflink, tunables).CloneTreeAsync(tree, target, cancellationToken);
                var elapsed = clock.Elapsed;
                Directory.Delete(target, recursive: true);
                return elapsed;
            }

            async Task<TimeSpan> Hash(Tunables tunables, Func<FileHashMemo> memo, bool save = false, int passes = 1)
            {
                var clock = Stopwatch.StartNew();
                for (var pass = 0; pass < passes; pass++)
                {
                    var hashes = new SourceHashes(tree, listing, memo(), tunables);
                    await hashes.HashAsync(listing, cancellationToken);
                    if (save)
                    {
                        hashes.SaveMemo();
                    }
                }

                return clock.Elapsed;
            }

            var unmemoised = defaults with { HashMemo = false };
            var reports = new List<TunableReport>
            {
                await PickAsync("clone parallelism", ParallelismCandidates, defaults.CloneParallelism, Count, CloneBudget, v => Clone(defaults with { CloneParallelism = v }), cancellationToken),
                await PickAsync("hash parallelism", ParallelismCandidates, defaults.HashParallelism, Count, HashBudget, v => Hash(unmemoised with { HashParallelism = v }, FileHashMemo.InMemory), cancellationToken),
                await PickAsync("hash read size", ReadBufferCandidates, defaults.HashReadBuffer, Size, HashBudget, v => Hash(unmemoised with { HashReadBuffer = v }, FileHashMemo.InMemory), cancellationToken),
            };

            // The memo refuses files changed within its racy window of hashing: the rest needs the tree older than that.
            var young = made + FileHashMemo.RacyWindow + TimeSpan.FromMilliseconds(100) - DateTime.UtcNow;
            if (young > TimeSpan.Zero)
            {
                await Task.Delay(young, cancellationToken);
            }

            var saved = Path.Combine(root, "memo.bin");
            var warm = FileHashMemo.InMemory();
            await Hash(defaults, () => FileHashMemo.Load(saved), save: true);
            await Hash(defaults, () => warm);
            var check = new SourceHashes(tree, listing, FileHashMemo.Load(saved));
            await check.HashAsync(listing, cancellationToken);
            if (check.FilesRead != 0)
            {
                var why = $"not measured: {check.FilesRead} probe files were still too new to memoise (is the clock of this filesystem ahead?)";
                reports.Add(new TunableReport("hash batch", Count(defaults.HashBatchMinimum), [], 0, Count(defaults.HashBatchMinimum), why));
                reports.Add(new TunableReport("file hash memo", "on", [], 0, "on", why));
            }
            else
            {
                reports.Add(await PickAsync("hash batch", BatchCandidates, defaults.HashBatchMinimum, Count, HashBudget, v => Hash(defaults with { HashBatchMinimum = v }, () => warm, passes: BatchPasses), cancellationToken, largerIsCheaper: true));
                reports.Add(await MemoAsync(Hash, defaults, saved, Scratch, cancellationToken));
            }

            return new DiskBenchResult(directory, reflink, listing.Count, bytes, reports);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    // Cheapest first for the choice: fewer threads, a smaller buffer; for a batch, a bigger one (fewer work items).
    private static async Task<TunableReport> PickAsync(
        string name, int[] candidates, int current, Func<int, string> format, TimeSpan budget, Func<int, Task<TimeSpan>> once, CancellationToken cancellationToken,
        bool largerIsCheaper = false)
    {
        var values = candidates.Append(current).Distinct().Order().ToArray();
        var times = await AlternateAsync(values, Array.IndexOf(values, current), budget, once, cancellationToken);
        var measured = values.Select((v, i) => new Measured(v, times[i])).ToList();
        var choice = TunableChoice.Pick(largerIsCheaper ? measured.AsEnumerable().Reverse().ToList() : measured, current, format);
        return new TunableReport(
            name, format(current), [.. measured.Select(m => new Figure(format(m.Value), m.Median))], times[0].Count, format(choice.Value), choice.Why);
    }

    // Cold: an empty memo filled and saved; hit: the saved memo, every file only stat'ed; off: every file read, nothing kept.
    private static async Task<TunableReport> MemoAsync(
        Func<Tunables, Func<FileHashMemo>, bool, int, Task<TimeSpan>> hash, Tunables defaults, string saved, Func<string, string> scratch, CancellationToken cancellationToken)
    {
        Func<Task<TimeSpan>>[] ways =
        [
            () => hash(defaults, () => FileHashMemo.Load(scratch("cold")), true, 1),
            () => hash(defaults, () => FileHashMemo.Load(saved), false, 1),
            () => hash(defaults with { HashMemo = false }, FileHashMemo.InMemory, false, 1),
        ];
        var times = await AlternateAsync([0, 1, 2], 0, HashBudget, i => ways[i](), cancellationToken);
        var choice = TunableChoice.PickMemo(times[1], times[2]);
        var on = choice.Value == 1 ? "on" : "off";
        return new TunableReport(
            "file hash memo",
            defaults.HashMemo ? "on" : "off",
            [new Figure("cold", TunableChoice.Median(times[0])), new Figure("hit", TunableChoice.Median(times[1])), new Figure("off", TunableChoice.Median(times[2]))],
            times[0].Count,
            on,
            choice.Why);
    }

    // One untimed warm-up (JIT, page cache) with the default, then rounds in forward and backward order by turns,
    // as many as fit the budget.
    private static async Task<List<TimeSpan>[]> AlternateAsync(
        int[] values, int warmUp, TimeSpan budget, Func<int, Task<TimeSpan>> once, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await once(values[warmUp]);
        var times = values.Select(_ => new List<TimeSpan>(Rounds)).ToArray();
        for (var round = 0; round < Rounds && (round == 0 || clock.Elapsed < budget); round++)
        {
            for (var k = 0; k < values.Length; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var i = round % 2 == 0 ? k : values.Length - 1 - k;
                times[i].Add(await once(values[i]));
            }
        }

        return times;
    }

    private static (List<string> Listing, long Bytes) MakeTree(string tree)
    {
        var random = new Random(ProbeFiles);
        var block = new byte[256 << 10];
        random.NextBytes(block);
        var listing = new List<string>(ProbeFiles);
        long bytes = 0;
        for (var i = 0; i < ProbeFiles; i++)
        {
            var relative = $"d{i % 10}/s{i % 5}/f{i:D4}.bin";
            var size = i % 5 == 4 ? random.Next(16 << 10, 48 << 10) : random.Next(512, 16 << 10);
            var path = Path.Combine(tree, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            stream.Write(block, random.Next(block.Length - size), size);
            listing.Add(relative);
            bytes += size;
        }

        return (listing, bytes);
    }

    /// <summary>A count as a label: <c>4</c>.</summary>
    public static string Count(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A byte size as a label: <c>128 KiB</c>, <c>1 MiB</c>.</summary>
    public static string Size(int bytes) =>
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? Count(bytes >> 20) + " MiB"
        : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? Count(bytes >> 10) + " KiB"
        : Count(bytes) + " B";
}
