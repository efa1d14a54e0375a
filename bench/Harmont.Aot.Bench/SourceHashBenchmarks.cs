using BenchmarkDotNet.Attributes;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Bench;

/// <summary>
/// onChange resolution of <c>**</c> over a 10k-file tree (~2 KiB each): with an empty memo every file is read
/// and hashed (a first run); with the memo a previous run saved, a no-op re-run only stats.
/// </summary>
public class SourceHashBenchmarks
{
    private const int FileCount = 10_000;
    private static readonly string[] Everything = ["**"];

    private string _dir = "";
    private string _root = "";
    private string _warmMemo = "";
    private List<string> _listing = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("harmont-bench-srchash-").FullName;
        _root = Path.Combine(_dir, "tree");
        _warmMemo = Path.Combine(_dir, "warm.bin");
        try
        {
            MakeTree();
        }
        catch
        {
            Directory.Delete(_dir, recursive: true);
            throw;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private void MakeTree()
    {
        var random = new Random(FileCount);
        var bytes = new byte[2560];
        for (var i = 0; i < FileCount; i++)
        {
            var relative = $"d{i % 100:D2}/s{i % 7}/f{i:D5}.txt";
            var path = Path.Combine(_root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            random.NextBytes(bytes);
            File.WriteAllBytes(path, bytes.AsSpan(0, 1536 + random.Next(1024)).ToArray());
            _listing.Add(relative);
        }

        // The memo refuses files changed within its racy window of hashing: let the tree age past it.
        Thread.Sleep(FileHashMemo.RacyWindow + TimeSpan.FromMilliseconds(300));

        var memo = FileHashMemo.Load(_warmMemo);
        var hashes = new SourceHashes(_root, _listing, memo);
        hashes.ResolveAsync("bench", Everything, CancellationToken.None).GetAwaiter().GetResult();
        if (hashes.FilesRead != FileCount)
        {
            throw new InvalidOperationException($"Cold setup read {hashes.FilesRead} files, expected {FileCount}.");
        }

        memo.Save();
        var check = new SourceHashes(_root, _listing, FileHashMemo.Load(_warmMemo));
        check.ResolveAsync("bench", Everything, CancellationToken.None).GetAwaiter().GetResult();
        if (check.FilesRead != 0)
        {
            throw new InvalidOperationException($"The warm memo still read {check.FilesRead} files; the benchmark would measure nothing.");
        }
    }

    /// <summary>First run: an empty memo, every file read and hashed.</summary>
    [Benchmark(Baseline = true, Description = "cold (empty memo)")]
    public async Task<string> Cold() =>
        (await new SourceHashes(_root, _listing, FileHashMemo.Load(Path.Combine(_dir, "missing.bin"))).ResolveAsync("bench", Everything, CancellationToken.None)).Resolution;

    /// <summary>No-op re-run: the memo loaded from disk, every file only stat'ed.</summary>
    [Benchmark(Description = "warm (memo from disk)")]
    public async Task<string> Warm() =>
        (await new SourceHashes(_root, _listing, FileHashMemo.Load(_warmMemo)).ResolveAsync("bench", Everything, CancellationToken.None)).Resolution;
}
