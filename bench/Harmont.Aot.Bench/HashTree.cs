using Harmont.Aot.Keys;
using Harmont.Aot.Tuning;

namespace Harmont.Aot.Bench;

/// <summary>
/// A temporary tree of small files for the hashing benchmarks, aged past the memo's racy window, with a memo that
/// knows every file (<see cref="Warm"/>, and saved at <see cref="MemoPath"/>).
/// </summary>
public sealed class HashTree : IDisposable
{
    private HashTree(string directory, List<string> listing)
    {
        Directory = directory;
        Listing = listing;
    }

    /// <summary>The scratch directory; the tree is its <c>tree</c>.</summary>
    public string Directory { get; }

    /// <summary>The tree's root.</summary>
    public string Root => Path.Combine(Directory, "tree");

    /// <summary>Every file, '/'-separated relative to <see cref="Root"/>.</summary>
    public List<string> Listing { get; }

    /// <summary>Where the memo of every file is saved.</summary>
    public string MemoPath => Path.Combine(Directory, "warm.bin");

    /// <summary>An in-memory memo that knows every file.</summary>
    internal FileHashMemo Warm { get; private set; } = FileHashMemo.InMemory();

    /// <summary>Makes <paramref name="files"/> files of <paramref name="min"/> to <paramref name="max"/> random bytes, and the memo of them.</summary>
    public static HashTree Make(int files, int min, int max)
    {
        var tree = new HashTree(System.IO.Directory.CreateTempSubdirectory("harmont-bench-hash-").FullName, []);
        try
        {
            var random = new Random(files);
            var bytes = new byte[max];
            for (var i = 0; i < files; i++)
            {
                var relative = $"d{i % 100:D2}/s{i % 7}/f{i:D5}.txt";
                var path = Path.Combine(tree.Root, relative);
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                random.NextBytes(bytes);
                File.WriteAllBytes(path, bytes.AsSpan(0, random.Next(min, max)).ToArray());
                tree.Listing.Add(relative);
            }

            // The memo refuses files changed within its racy window of hashing: let the tree age past it.
            Thread.Sleep(FileHashMemo.RacyWindow + TimeSpan.FromMilliseconds(300));
            var saved = FileHashMemo.Load(tree.MemoPath);
            tree.Check(saved, files);
            saved.Save();
            tree.Check(tree.Warm, files);
            tree.Check(FileHashMemo.Load(tree.MemoPath), 0);
            tree.Check(tree.Warm, 0);
            return tree;
        }
        catch
        {
            tree.Dispose();
            throw;
        }
    }

    /// <summary>Hashes every file with <paramref name="tunables"/> and <paramref name="memo"/>.</summary>
    internal Task HashAsync(Tunables tunables, FileHashMemo memo) =>
        new SourceHashes(Root, Listing, memo, tunables).HashAsync(Listing, CancellationToken.None);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private void Check(FileHashMemo memo, int expectedReads)
    {
        var hashes = new SourceHashes(Root, Listing, memo);
        hashes.HashAsync(Listing, CancellationToken.None).GetAwaiter().GetResult();
        if (hashes.FilesRead != expectedReads)
        {
            throw new InvalidOperationException($"Hashing read {hashes.FilesRead} files, expected {expectedReads}: the benchmark would measure something else.");
        }
    }
}
