using BenchmarkDotNet.Attributes;
using Harmont.Aot.Keys;
using Harmont.Aot.Tuning;

namespace Harmont.Aot.Bench;

/// <summary>
/// The file hash memo (<see cref="Tunables.HashMemo"/>): onChange resolution of <c>**</c> over a 10k-file tree
/// (~2 KiB each). With an empty memo every file is read and hashed and the memo saved (a first run); with the memo a
/// previous run saved, a no-op re-run only stats; with the memo off, every run reads and hashes every file.
/// </summary>
public class SourceHashBenchmarks
{
    private const int FileCount = 10_000;
    private static readonly string[] Everything = ["**"];

    private HashTree _tree = null!;
    private int _next;

    [GlobalSetup]
    public void Setup() => _tree = HashTree.Make(FileCount, 1536, 2560);

    [GlobalCleanup]
    public void Cleanup() => _tree.Dispose();

    /// <summary>First run: an empty memo, every file read and hashed, the memo saved.</summary>
    [Benchmark(Baseline = true, Description = "cold (empty memo)")]
    public async Task<string> Cold()
    {
        var hashes = new SourceHashes(_tree.Root, _tree.Listing, FileHashMemo.Load(Path.Combine(_tree.Directory, $"cold-{_next++}.bin")));
        var resolution = (await hashes.ResolveAsync("bench", Everything, CancellationToken.None)).Resolution;
        hashes.SaveMemo();
        return resolution;
    }

    /// <summary>No-op re-run: the memo loaded from disk, every file only stat'ed.</summary>
    [Benchmark(Description = "warm (memo from disk)")]
    public async Task<string> Warm() =>
        (await new SourceHashes(_tree.Root, _tree.Listing, FileHashMemo.Load(_tree.MemoPath)).ResolveAsync("bench", Everything, CancellationToken.None)).Resolution;

    /// <summary>Any run with the memo off: every file read and hashed, nothing kept.</summary>
    [Benchmark(Description = "memo off")]
    public async Task<string> Off() =>
        (await new SourceHashes(_tree.Root, _tree.Listing, FileHashMemo.InMemory(), Tunables.Default with { HashMemo = false })
            .ResolveAsync("bench", Everything, CancellationToken.None)).Resolution;
}
