using System.Formats.Tar;
using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using SharpCompress.Common;
using static Harmont.Aot.Cache.CacheBundleFormat;

namespace Harmont.Aot.Cache;

/// <summary>
/// <c>cache export</c>/<c>cache import</c>: entries as one bundle, for CI cache services (docs/cache-store.md).
/// Import is hostile-input parsing (§4.7): members are extracted into staging without resolving a link,
/// every entry is validated, and nothing is published unless the whole bundle is valid.
/// </summary>
internal static class CacheBundle
{
    // Tar writers pad an archive to a record of up to 10 KiB, some to more; past a mebibyte it is not padding.
    private const long MaxPadding = 1 << 20;

    /// <summary>Writes every entry to <paramref name="file"/>, which appears whole or not at all; returns how many.</summary>
    public static async Task<int> ExportAsync(CacheStore store, string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!OperatingSystem.IsLinux())
        {
            throw NotLinux("export");
        }

        var target = Path.GetFullPath(file);
        var directory = Path.GetDirectoryName(target) ?? "/";
        if (!Directory.Exists(directory))
        {
            throw new PipelineException($"cache export: the directory {directory} does not exist; create it, or name a bundle file in an existing directory.");
        }

        if (Directory.Exists(target))
        {
            throw new PipelineException($"cache export: {target} is a directory; name the bundle file to write, e.g. {Path.Combine(target, "cache" + Extension)}.");
        }

        // Written beside the target and renamed over it: a reader of the target never sees a partial bundle.
        var partial = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            int count;
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write))
            await using (var compressed = Compress(output))
            {
                // Entries of a layout this version no longer reads would only make the bundle unimportable.
                count = await BundleWriter.WriteAsync([.. store.List().Where(l => l.Entry.IsReadable)], compressed, cancellationToken);
            }

            File.Move(partial, target, overwrite: true);
            return count;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PipelineException($"cache export: cannot write {target}: {OneLine(ex.Message)}. Nothing was written; name a writable path with room for the bundle.");
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Imports the bundle's entries; entries already present are kept (first writer wins). Returns how many were added.</summary>
    public static Task<int> ImportAsync(CacheStore store, string file, CancellationToken cancellationToken) =>
        ImportAsync(store, file, null, cancellationToken);

    /// <summary>
    /// The same, refusing the bundle unless it holds exactly the entry <paramref name="onlyKey"/> (when not null). With
    /// <paramref name="sources"/>, the bundle must not hold the entry's source manifest: that file is its manifest.
    /// <paramref name="vet"/> judges each entry record before anything is published: a reason refuses the bundle.
    /// </summary>
    public static async Task<int> ImportAsync(
        CacheStore store, string file, string? onlyKey, CancellationToken cancellationToken, string? sources = null, Func<CacheEntry, string?>? vet = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!OperatingSystem.IsLinux())
        {
            throw NotLinux("import");
        }

        if (sources is not null && onlyKey is null)
        {
            throw new ArgumentException("a source manifest given beside a bundle belongs to the one entry it must hold", nameof(sources));
        }

        var staging = store.BeginEntry();
        try
        {
            var budget = new DriveInfo(staging).AvailableFreeSpace;
            var staged = new List<(string Directory, CacheEntry Entry)>();
            using (var extractor = new BundleExtractor(staging, budget))
            {
                await ReadAsync(file, extractor, cancellationToken);
                extractor.Finish();
                if (onlyKey is not null && !extractor.Keys.SequenceEqual([onlyKey]))
                {
                    throw BundleExtractor.Reject(Prefix, $"holds the entries {string.Join(", ", extractor.Keys.Select(k => k[..Math.Min(16, k.Length)]))}, where the entry {onlyKey[..16]} alone was expected");
                }

                if (sources is not null)
                {
                    await AddSourcesAsync(extractor.Root, onlyKey!, sources, cancellationToken);
                }

                foreach (var key in extractor.Keys)
                {
                    var entry = Validate(extractor.Root, key);
                    if (vet?.Invoke(entry) is { } problem)
                    {
                        throw BundleExtractor.Reject($"{Prefix}{key}/entry.json", problem);
                    }

                    staged.Add((Path.Combine(staging, key), entry));
                }
            }

            // Every entry was checked before the first is published: a bad bundle adds nothing.
            return staged.Count(s => store.Publish(s.Directory, s.Entry));
        }
        finally
        {
            HostileTree.Delete(staging);
        }
    }

    [SupportedOSPlatform("linux")]
    private static async Task ReadAsync(string file, BundleExtractor extractor, CancellationToken cancellationToken)
    {
        try
        {
            await using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            await using var tarStream = new TarMetadataGuard(Decompress(input));
            await using var tar = new TarReader(tarStream);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } member)
            {
                tarStream.MemberRead(member);
                await extractor.ExtractAsync(member, cancellationToken);
            }

            await ReadToEndAsync(file, tarStream, cancellationToken);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IncompleteArchiveException)
        {
            throw Damaged(file, $"it ends early: it is empty or was cut short ({OneLine(ex.Message)})");
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or NotSupportedException or ArgumentException or OverflowException or SharpCompressException)
        {
            throw Damaged(file, $"it is not a {Description} as 'cache export' writes one, or it is damaged ({OneLine(ex.Message)})");
        }
    }

    // The compressed stream checks its own checksum only at its end, which the tar reader never reaches: a
    // bundle damaged in transit is found only by reading on. What may follow the archive is padding.
    private static async Task ReadToEndAsync(string file, Stream tarStream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        for (long padding = 0, read; (read = await tarStream.ReadAsync(buffer, cancellationToken)) > 0; padding += read)
        {
            if (padding + read > MaxPadding || buffer.AsSpan(0, (int)read).ContainsAnyExcept((byte)0))
            {
                throw Damaged(file, "it holds data after the end of its archive");
            }
        }
    }

    // The manifest shipped beside the bundle, written into the staged entry by handle: a bundle that brought its own
    // is refused, since the two could disagree.
    [SupportedOSPlatform("linux")]
    private static async Task AddSourcesAsync(ContainedRoot staging, string key, string sources, CancellationToken cancellationToken)
    {
        using var handle = staging.TryOpen($"{key}/sources", LinuxSyscalls.CreateNewFlags, 0b110_100_100, out var error);
        if (error != Errno.None)
        {
            throw BundleExtractor.Reject($"{Prefix}{key}/sources", error == Errno.EEXIST
                ? "is in the bundle, where the entry's source manifest comes beside it"
                : $"cannot be written ({error.Describe()})");
        }

        await using var output = new FileStream(handle, FileAccess.Write, bufferSize: 0);
        await using var input = File.OpenRead(sources);
        await input.CopyToAsync(output, cancellationToken);
    }

    // The entry record, read back from staging by handle and judged by the same rules as every reader's.
    [SupportedOSPlatform("linux")]
    private static CacheEntry Validate(ContainedRoot staging, string key)
    {
        var record = $"{Prefix}{key}/entry.json";
        using var handle = staging.TryOpen($"{key}/entry.json", LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        if (error != Errno.None)
        {
            throw BundleExtractor.Reject($"{Prefix}{key}/", "has no entry.json");
        }

        using var json = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var (entry, problem) = CacheEntryRules.Read(json);
        if (entry is null)
        {
            throw BundleExtractor.Reject(record, problem ?? "is not an entry record");
        }

        if (!entry.IsReadable)
        {
            throw BundleExtractor.Reject(record, $"is an entry of format {entry.Format}, which this version does not read");
        }

        if (entry.Key != key)
        {
            throw BundleExtractor.Reject(record, $"names key {entry.Key}, not {key}");
        }

        if (entry.HasWorkspace && !(Is(staging, $"{key}/workspace", s => s.IsDirectory) && Is(staging, $"{key}/sources", s => s.IsRegular)))
        {
            throw BundleExtractor.Reject(record, "says the entry holds a workspace, but its workspace/ directory or sources file is missing");
        }

        ValidateSources(staging, key);
        return entry;
    }

    // A hit's child reads the source manifest to lay the source delta over the cached output: one it cannot read
    // would fail that child in every run that imports the entry, so it is read here, by the child's own rules.
    [SupportedOSPlatform("linux")]
    private static void ValidateSources(ContainedRoot staging, string key)
    {
        var member = $"{Prefix}{key}/sources";
        using var handle = staging.TryOpen($"{key}/sources", LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        if (error == Errno.ENOENT)
        {
            return; // An entry without a workspace has no manifest.
        }

        if (error != Errno.None || LinuxSyscalls.StatHandle(handle, out var status) != Errno.None || !status.IsRegular)
        {
            throw BundleExtractor.Reject(member, $"cannot be read back as a file ({error.Describe()})");
        }

        if (status.Size > SourceManifest.MaxBytes)
        {
            throw BundleExtractor.Reject(member, $"is {status.Size} bytes, more than a source manifest can be ({SourceManifest.MaxBytes})");
        }

        var bytes = new byte[status.Size];
        using (var input = new FileStream(handle, FileAccess.Read, bufferSize: 0))
        {
            input.ReadExactly(bytes);
        }

        if (SourceManifest.TryParse(bytes, out _) is { } problem)
        {
            throw BundleExtractor.Reject(member, $"is a source manifest no run can use: {problem}");
        }
    }

    [SupportedOSPlatform("linux")]
    private static bool Is(ContainedRoot root, string relative, Func<FileStatus, bool> kind) =>
        root.TryStat(relative, out var status) == Errno.None && kind(status);

    private static PipelineException Damaged(string file, string why) =>
        new($"cache import of {file}: {why}. Nothing was imported; pass a bundle written by 'cache export', copied whole.");

    private static PipelineException NotLinux(string verb) =>
        new($"cache {verb} needs Linux: it reads and writes entries by handle, never following a link. Run it on a Linux machine.");

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
