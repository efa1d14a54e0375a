namespace Harmont.Aot.Bench;

/// <summary>
/// The trees the workspace benchmarks clone: 1k files (~320 MiB) and 20k files (~700 MiB), ~1 GiB
/// together, and source-like trees of ~16 KiB a file for the tunables (5k files: ~80 MiB). Mixed sizes: four files in five are 0.5–16 KiB, the fifth share the rest of the budget.
/// Made once per directory and reused across benchmark classes and runs.
/// </summary>
public static class BenchTrees
{
    /// <summary>Where the XFS (reflink) trees live: <c>HARMONT_BENCH_XFS</c>, set up by <c>bench/run.sh</c>.</summary>
    public static string XfsRoot => Required("HARMONT_BENCH_XFS");

    /// <summary>Where the ext4 trees live: <c>HARMONT_BENCH_EXT4</c>, set up by <c>bench/run.sh</c>.</summary>
    public static string Ext4Root => Required("HARMONT_BENCH_EXT4");

    /// <summary>The tree of <paramref name="files"/> files under <paramref name="root"/>, made if missing.</summary>
    public static string Ensure(string root, int files)
    {
        var tree = Path.Combine(root, $"tree-{files}");
        var done = Path.Combine(root, $"tree-{files}.done");
        if (File.Exists(done))
        {
            return tree;
        }

        if (Directory.Exists(tree))
        {
            Directory.Delete(tree, recursive: true);
        }

        // 1k and 20k: the workspace trees above; any other count: a source-like tree of ~16 KiB a file.
        long budget = files switch { 1_000 => 320L << 20, 20_000 => 700L << 20, _ => (long)files * 16 << 10 };
        var random = new Random(files);
        var sizes = new long[files];
        var large = new List<int>();
        for (var i = 0; i < files; i++)
        {
            if (i % 5 == 4)
            {
                large.Add(i);
            }
            else
            {
                sizes[i] = random.Next(512, 16 * 1024);
                budget -= sizes[i];
            }
        }

        var weights = large.Select(_ => random.NextDouble() * random.NextDouble()).ToArray();
        var total = weights.Sum();
        for (var j = 0; j < large.Count; j++)
        {
            sizes[large[j]] = Math.Max(16 * 1024, (long)(budget * weights[j] / total));
        }

        var block = new byte[8 << 20];
        random.NextBytes(block);
        for (var i = 0; i < files; i++)
        {
            var path = Path.Combine(tree, $"d{i % 50:D2}", $"s{i % 7}", $"f{i:D5}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            for (var left = sizes[i]; left > 0;)
            {
                var chunk = (int)Math.Min(left, block.Length - (i % 4096));
                stream.Write(block, i % 4096, chunk);
                left -= chunk;
            }
        }

        File.WriteAllText(done, "");
        return tree;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; run the benchmarks through bench/run.sh, which mounts the filesystems they need.");
}
