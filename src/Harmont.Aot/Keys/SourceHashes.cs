using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Tuning;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Keys;

/// <summary>What an onChange policy resolved to: policy resolution (docs/cache-keys.md), and the file hashes behind it for <c>explain</c>.</summary>
/// <param name="Resolution"><c>"sha-"</c> + the hash of every matched path and its content hash.</param>
/// <param name="Files">Each matched path (repo-relative) and its lowercase-hex SHA-256.</param>
internal sealed record OnChangeResolution(string Resolution, IReadOnlyDictionary<string, string> Files);

/// <summary>
/// One run's view of the source tree for onChange policies: matches globs against the run's source listing
/// and hashes files in parallel, once per run however many steps share them, and across runs through the
/// <see cref="FileHashMemo"/> (Linux, where statx gives the identity it is keyed by).
/// </summary>
/// <param name="root">The source tree the listing is relative to.</param>
/// <param name="sourceFiles">The run's source listing (<see cref="Workspaces.SourceTree.ListAsync"/>): '/'-separated relative paths; directory entries are skipped.</param>
/// <param name="memo">Hashes remembered from earlier runs; the caller saves it when the run is done.</param>
/// <param name="tunables">Parallelism, read size and whether the memo is used (default: <see cref="Tunables.Default"/>).</param>
internal sealed class SourceHashes(string root, IReadOnlyList<string> sourceFiles, FileHashMemo memo, Tunables? tunables = null)
{
    private readonly Tunables _tunables = tunables ?? Tunables.Default;

    // A path hashed twice by a race gives the same value twice; no lock is worth that rare waste.
    // A directory (a submodule in git's listing) is stored with the empty hash.
    private readonly ConcurrentDictionary<string, string> _hashes = new(Environment.ProcessorCount, sourceFiles.Count, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<string>> _globMatches = new(StringComparer.Ordinal);
    private readonly Lazy<string[]> _sorted = new(() =>
    {
        var sorted = sourceFiles.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    });
    private readonly ConcurrentDictionary<string, uint> _modes = new(StringComparer.Ordinal);
    private Containment.ContainedRoot? _root;
    private int _filesRead;

    private const uint DirectoryMode = 0x41ed, LinkMode = 0xa1ff, RegularMode = 0x8000;

    /// <summary>How many files this instance has read and hashed (memo and in-process hits excluded): how tests see the memo work.</summary>
    internal int FilesRead => Volatile.Read(ref _filesRead);

    /// <summary>
    /// The files of the listing that <paramref name="glob"/> matches, sorted ordinally. A glob that matches nothing
    /// is a <see cref="PipelineException"/>: it would otherwise silently weaken the key (docs/cache-keys.md).
    /// </summary>
    public IReadOnlyList<string> Match(string stepKey, string glob)
    {
        var matches = GlobMatches(stepKey, glob).Where(path => !IsDirectory(path)).ToList();
        if (matches.Count == 0)
        {
            throw new PipelineException(
                $"onChange glob \"{glob}\" of step '{stepKey}' matches no file in the source tree ({root}); fix the pattern or remove it");
        }

        return matches;
    }

    /// <summary>Lowercase-hex SHA-256 of each path's bytes (a symlink: of its target text), read in parallel.</summary>
    public async Task<IReadOnlyDictionary<string, string>> HashAsync(IReadOnlyCollection<string> paths, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);

        // Only paths not hashed yet in this run go through the parallel loop; the rest cost a lookup.
        var pending = paths.Where(p => !_hashes.ContainsKey(p)).ToArray();
        if (pending.Length > 0)
        {
            // Ranges, not items: most paths cost one statx and a memo lookup, less than scheduling an item would.
            var options = new ParallelOptions { MaxDegreeOfParallelism = _tunables.HashParallelism, CancellationToken = cancellationToken };
            var ranges = Partitioner.Create(0, pending.Length, _tunables.HashBatch(pending.Length));
            try
            {
                await Task.Run(
                    () => Parallel.ForEach(ranges, options, range =>
                    {
                        for (var i = range.Item1; i < range.Item2; i++)
                        {
                            _hashes.TryAdd(pending[i], HashOne(pending[i]));
                        }
                    }),
                    cancellationToken);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
            {
                // The file that could not be read says why; the parallel loop's wrapper says nothing.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            }
        }

        var result = new Dictionary<string, string>(paths.Count, StringComparer.Ordinal);
        foreach (var path in paths)
        {
            result[path] = _hashes[path];
        }

        return result;
    }

    /// <summary>Saves the memo if hashing added to it; failing only costs the next run some hashing.</summary>
    public void SaveMemo()
    {
        try
        {
            memo.Save();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The source manifest of <paramref name="files"/> (docs/workspaces.md): each one's mode and content hash, hashed
    /// in parallel and memoised like onChange inputs, so a run that already hashed a file pays a lookup.
    /// </summary>
    public async Task<Workspaces.SourceManifest> ManifestAsync(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var hashes = await HashAsync(files, cancellationToken);
        var manifest = new Dictionary<string, Workspaces.SourceFile>(files.Count, StringComparer.Ordinal);
        foreach (var (file, hash) in hashes)
        {
            manifest[file] = new Workspaces.SourceFile(_modes[file], hash);
        }

        return new Workspaces.SourceManifest(manifest);
    }

    /// <summary>
    /// Matches every (step, glob) pair and hashes the union of the matches in one parallel pass, so
    /// the resolutions that follow only look hashes up. A glob that matches nothing fails here.
    /// </summary>
    public async Task PrefetchAsync(IEnumerable<(string StepKey, string Glob)> globs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(globs);
        var pairs = globs.ToList();
        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (stepKey, glob) in pairs)
        {
            all.UnionWith(GlobMatches(stepKey, glob));
        }

        // Hashing stats each path once, in parallel, and learns which are directories; Match then only looks that up.
        await HashAsync(all, cancellationToken);
        foreach (var (stepKey, glob) in pairs)
        {
            Match(stepKey, glob);
        }
    }

    /// <summary>
    /// onChange resolution (docs/cache-keys.md): <c>"sha-"</c> + SHA-256 (lowercase hex) of, for each glob in ordinal order and
    /// each of its matches in ordinal order, <c>relpath ␀ sha256hex ␀</c> in UTF-8.
    /// </summary>
    public async Task<OnChangeResolution> ResolveAsync(string stepKey, IReadOnlyList<string> globs, CancellationToken cancellationToken)
    {
        var matched = globs.Order(StringComparer.Ordinal).Select(glob => Match(stepKey, glob)).ToList();
        var hashes = await HashAsync([.. matched.SelectMany(m => m).Distinct(StringComparer.Ordinal)], cancellationToken);

        // Gathered into the hash a chunk at a time: the preimage of a big glob is megabytes.
        using var preimage = new FieldHash();
        foreach (var path in matched.SelectMany(m => m))
        {
            preimage.Add(path).Add(hashes[path]);
        }

        return new OnChangeResolution("sha-" + preimage.FinishHex(), hashes);
    }

    // The sorted listing's range that can match: every path starting with the glob's literal directory
    // prefix ("src/pkg07/" for "src/pkg07/**"), found by binary search, so a narrow glob over a big tree
    // looks at its own directory only.
    // The listing's paths the glob's pattern matches, directories included; computed once per glob.
    private List<string> GlobMatches(string stepKey, string glob) =>
        _globMatches.GetOrAdd(glob, g =>
        {
            Glob compiled;
            try
            {
                compiled = new Glob(g);
            }
            catch (ArgumentException e)
            {
                throw new PipelineException($"onChange glob of step '{stepKey}' is invalid: {e.Message}; fix the pattern", e);
            }

            var matches = new List<string>();
            foreach (var path in Candidates(g))
            {
                if (compiled.IsMatch(path))
                {
                    matches.Add(path);
                }
            }

            return matches;
        });

    private ArraySegment<string> Candidates(string glob)
    {
        var sorted = _sorted.Value;
        var meta = glob.AsSpan().IndexOfAny("*?[{");
        var literal = meta < 0 ? glob : glob[..meta];
        var prefix = literal[..(literal.LastIndexOf('/') + 1)];
        if (prefix.Length == 0)
        {
            return sorted;
        }

        var start = LowerBound(sorted, prefix);
        var end = start;
        while (end < sorted.Length && sorted[end].StartsWith(prefix, StringComparison.Ordinal))
        {
            end++;
        }

        return new ArraySegment<string>(sorted, start, end - start);
    }

    private static int LowerBound(string[] sorted, string value)
    {
        var (lo, hi) = (0, sorted.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(sorted[mid], value) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    // Known from hashing (which stats every path it is given) or looked up now.
    private bool IsDirectory(string path) =>
        _hashes.TryGetValue(path, out var hash) ? hash.Length == 0 : IsRealDirectory(Path.Combine(root, path));

    private static bool IsRealDirectory(string full)
    {
        if (OperatingSystem.IsLinux())
        {
            return LinuxSyscalls.Stat(full, out var status) == Errno.None && status.IsDirectory;
        }

        var attributes = File.GetAttributes(full);
        return attributes.HasFlag(FileAttributes.Directory) && !attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    private string HashOne(string path)
    {
        // A directory (a submodule in git's listing) has no hash; it is remembered as one so Match skips it.
        if (!OperatingSystem.IsLinux())
        {
            var full = Path.Combine(root, path);
            _modes[path] = IsRealDirectory(full) ? DirectoryMode : new FileInfo(full).LinkTarget is not null ? LinkMode : OperatingSystem.IsWindows() ? RegularMode : (uint)File.GetUnixFileMode(full) | RegularMode;
            return IsRealDirectory(full) ? "" : Convert.ToHexStringLower(new FileInfo(full).LinkTarget is { } target ? HashText(Encoding.UTF8.GetBytes(target)) : HashFile(full));
        }

        return HashContained(path);
    }

    // Opened beneath the source root without following any link, so a name is bytes and a link is hashed as a link.
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private string HashContained(string path)
    {
        // The clock is read before stat and read, so a write racing them counts as recent (see FileHashMemo.Set).
        var started = DateTime.UtcNow;
        var contained = LazyInitializer.EnsureInitialized(ref _root, () => Containment.ContainedRoot.Open(root));

        // One statx for the memo's identity (a no-op run does nothing else per file); reading goes through the
        // contained open, which refuses a path that runs through a link.
        var error = LinuxSyscalls.StatAt(contained.Handle, Native.PathBytes.EncodeTerminated(path), out var status);

        if (error != Errno.None)
        {
            throw new IOException($"Cannot hash {Path.Combine(root, path)}: {ErrnoText.Describe(error)}. The source tree changed during the run; run again.");
        }

        _modes[path] = status.Mode;
        if (status.IsDirectory)
        {
            return "";
        }

        if (status.IsSymlink)
        {
            return Convert.ToHexStringLower(HashText(contained.ReadLink(path)));
        }

        var identity = new FileIdentity(status.Device, status.Inode, status.Size, Nanoseconds(status.Modification), Nanoseconds(status.Change));
        var remember = _tunables.HashMemo;
        byte[] hash = [];
        if (!remember || !memo.TryGet(identity, out hash))
        {
            using var file = contained.TryOpen(path, LinuxSyscalls.ReadOnlyFlag, 0, out error);
            if (error != Errno.None)
            {
                throw new IOException($"Cannot read {Path.Combine(root, path)}: {ErrnoText.Describe(error)}. Make it readable or leave it out of the source.");
            }

            hash = HashHandle(file);
            if (remember)
            {
                memo.Set(identity, hash, started);
            }
        }

        return Convert.ToHexStringLower(hash);
    }

    private static byte[] HashText(byte[] linkTarget) => KeySha256.HashData(linkTarget);

    private byte[] HashFile(string full)
    {
        using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        return HashHandle(handle);
    }

    private byte[] HashHandle(SafeFileHandle handle)
    {
        Interlocked.Increment(ref _filesRead);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(_tunables.HashReadBuffer);
        try
        {
            // The pool may hand out more than asked: read exactly the tunable's chunk, so it is what is measured.
            var chunk = buffer.AsSpan(0, _tunables.HashReadBuffer);
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(handle, chunk, offset)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                offset += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return sha.GetHashAndReset();
    }

    private static long Nanoseconds(Timespec time) => (time.Seconds * 1_000_000_000) + time.Nanoseconds;
}
