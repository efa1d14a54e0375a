namespace Harmont.Aot.Tuning;

/// <summary>
/// The settings the runner picks by itself, in one place: a run uses <see cref="Default"/>, while the
/// benchmarks (bench/README.md) and <c>doctor --bench</c> vary one at a time through the same code paths.
/// </summary>
internal sealed record Tunables
{
    /// <summary>What a run uses; each value is the one the benchmarks in bench/README.md chose.</summary>
    public static Tunables Default { get; } = new();

    /// <summary>
    /// Files cloned (reflinked or copied) at once into a workspace. Twice the cores: a clone mostly waits on
    /// the filesystem, so more than one per core keeps the disk busy.
    /// </summary>
    public int CloneParallelism { get; init; } = Environment.ProcessorCount * 2;

    /// <summary>Files stat'ed and hashed at once for onChange keys and source manifests.</summary>
    public int HashParallelism { get; init; } = Environment.ProcessorCount * 2;

    /// <summary>The chunk a file is read and hashed in, in bytes.</summary>
    public int HashReadBuffer { get; init; } = 128 * 1024;

    /// <summary>
    /// The fewest paths one hashing work item takes: most paths cost one statx and a memo lookup, less than
    /// scheduling an item, so paths go in ranges of at least this many.
    /// </summary>
    public int HashBatchMinimum { get; init; } = 64;

    /// <summary>Whether file hashes are remembered across runs by (device, inode, size, mtime, ctime).</summary>
    public bool HashMemo { get; init; } = true;

    /// <summary>The paths per hashing work item for <paramref name="count"/> paths: about four items per worker, never fewer paths than <see cref="HashBatchMinimum"/>.</summary>
    public int HashBatch(int count) => Math.Max(HashBatchMinimum, count / (HashParallelism * 4));
}
