using BenchmarkDotNet.Attributes;
using Harmont.Aot.Keys;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Bench;

/// <summary>
/// Files cloned at once (<see cref="Tunables.CloneParallelism"/>): one whole-tree clone per iteration through the
/// product's cloner, reflinked on XFS, copied (<c>copy_file_range</c>) on ext4.
/// </summary>
public class CloneParallelismBenchmarks : TreeCloneIterations
{
    [Params("ext4", "xfs")]
    public string FileSystem { get; set; } = "";

    // A source-like tree (~80 MiB); the 20k-file tree (~700 MiB) took minutes per copy on this shared disk.
    [Params(5_000)]
    public int Files { get; set; }

    [Params(1, 2, 4, 8)]
    public int Parallelism { get; set; }

    protected override string Root => FileSystem == "xfs" ? BenchTrees.XfsRoot : BenchTrees.Ext4Root;

    protected override int TreeFiles => Files;

    [Benchmark(Description = "clone tree")]
    public Task Clone() =>
        new TreeCloner(reflink: FileSystem == "xfs", Tunables.Default with { CloneParallelism = Parallelism })
            .CloneTreeAsync(Source, Destination, CancellationToken.None);
}

/// <summary>
/// Files hashed at once (<see cref="Tunables.HashParallelism"/>) over a 10k-file source tree in the page cache:
/// every file read and hashed (memo off), and a no-op re-run where every file is a memo hit (one statx each).
/// </summary>
public class HashParallelismBenchmarks
{
    private HashTree _tree = null!;

    [Params("read", "memo hit")]
    public string Mode { get; set; } = "";

    [Params(1, 2, 4, 8)]
    public int Parallelism { get; set; }

    [GlobalSetup]
    public void Setup() => _tree = HashTree.Make(10_000, 1536, 2560);

    [GlobalCleanup]
    public void Cleanup() => _tree.Dispose();

    [Benchmark(Description = "hash tree")]
    public Task Hash() => Mode == "read"
        ? _tree.HashAsync(Tunables.Default with { HashParallelism = Parallelism, HashMemo = false }, FileHashMemo.InMemory())
        : _tree.HashAsync(Tunables.Default with { HashParallelism = Parallelism }, _tree.Warm);
}

/// <summary>
/// The chunk a file is read and hashed in (<see cref="Tunables.HashReadBuffer"/>), memo off, over a source-like tree
/// (5k files, ~80 MiB: most small, a fifth up to MiBs) in the page cache.
/// </summary>
public class HashReadSizeBenchmarks
{
    private string _root = "";
    private List<string> _listing = [];

    [Params(16 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20)]
    public int ReadBuffer { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = BenchTrees.Ensure(BenchTrees.Ext4Root, 5_000);
        _listing = [.. Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/'))];
    }

    [Benchmark(Description = "hash tree")]
    public Task Hash() =>
        new SourceHashes(_root, _listing, FileHashMemo.InMemory(), Tunables.Default with { HashReadBuffer = ReadBuffer, HashMemo = false })
            .HashAsync(_listing, CancellationToken.None);
}

/// <summary>
/// The fewest paths a hashing work item takes (<see cref="Tunables.HashBatchMinimum"/>), on a no-op re-run (every
/// file a memo hit, where scheduling costs most beside the work) of 1k paths: at 4 workers the batch is
/// max(minimum, 1000 / 16), so minimums above 62 are what differ.
/// </summary>
public class HashBatchBenchmarks
{
    private const int Repeat = 20;
    private HashTree _tree = null!;

    [Params(1, 16, 64, 256, 1024)]
    public int BatchMinimum { get; set; }

    [GlobalSetup]
    public void Setup() => _tree = HashTree.Make(1_000, 1536, 2560);

    [GlobalCleanup]
    public void Cleanup() => _tree.Dispose();

    // One pass takes a millisecond or two: twenty per iteration steady the numbers.
    [Benchmark(Description = "hash 1k memo hits", OperationsPerInvoke = Repeat)]
    public async Task Hash()
    {
        for (var i = 0; i < Repeat; i++)
        {
            await _tree.HashAsync(Tunables.Default with { HashBatchMinimum = BatchMinimum }, _tree.Warm);
        }
    }
}
