using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Harmont.Aot.Keys;

/// <summary>
/// Which file, in which state: (device, inode, size, mtime-ns, ctime-ns). Any write, rename over it or
/// chmod moves ctime, which nothing can set back, so an unchanged identity means unchanged bytes
/// (racy timestamps aside: see <see cref="FileHashMemo.Set"/>).
/// </summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode, long Size, long ModifiedNs, long ChangedNs);

/// <summary>
/// SHA-256 of files by <see cref="FileIdentity"/>, kept across runs in one binary file, so a no-op run
/// stats its sources instead of reading them (hashing must be fast on big trees; docs/cache-keys.md).
/// Thread-safe.
/// </summary>
/// <remarks>
/// <para>File format, little-endian: magic "HRMTHASH", u32 version, u32 record size, u64 count; count records of
/// (u64 device, u64 inode, i64 size, i64 mtime-ns, i64 ctime-ns, 32-byte sha256); then SHA-256 of everything before it.
/// The trailing digest matters: a flipped bit would otherwise hand out a wrong hash and a wrong cache hit.</para>
/// <para>At most <see cref="Capacity"/> records are kept. Records used or added by this process are written first,
/// the rest after them in their old order, so the file runs from most to least recently used and the bound drops the stalest.</para>
/// </remarks>
internal sealed class FileHashMemo
{
    /// <summary>The most records a saved memo holds: ~72 MB, far beyond a big monorepo's file count.</summary>
    public const int Capacity = 1_000_000;

    /// <summary>
    /// How close to the moment of hashing a file's mtime or ctime may be and still be memoised. Within it a later
    /// write of the same size could land in the same timestamp tick and be invisible (git's "racy index" problem);
    /// two seconds covers the coarsest common filesystem clock.
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private const ulong Magic = 0x48534148544D5248; // "HRMTHASH"
    private const uint Version = 1;
    private const int HeaderSize = 24;
    private const int RecordSize = 72;
    private const int HashSize = 32;

    private readonly string? _path;
    private readonly ConcurrentDictionary<FileIdentity, Entry> _entries;
    private readonly List<FileIdentity> _loadOrder;
    private volatile bool _added;

    private FileHashMemo(string? path, ConcurrentDictionary<FileIdentity, Entry> entries, List<FileIdentity> loadOrder)
    {
        _path = path;
        _entries = entries;
        _loadOrder = loadOrder;
    }

    /// <summary>How many identities the memo knows.</summary>
    public int Count => _entries.Count;

    /// <summary>A memo that starts empty and is never saved: hashing without a cache directory.</summary>
    public static FileHashMemo InMemory() => new(null, new ConcurrentDictionary<FileIdentity, Entry>(), []);

    /// <summary>
    /// Reads the memo at <paramref name="path"/>. A missing, truncated, corrupt or other-version file gives an
    /// empty memo: the memo only saves work, so losing it must never fail a run.
    /// </summary>
    public static FileHashMemo Load(string path)
    {
        var entries = new ConcurrentDictionary<FileIdentity, Entry>();
        var order = new List<FileIdentity>();

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return new FileHashMemo(path, entries, order);
        }
        catch (UnauthorizedAccessException)
        {
            return new FileHashMemo(path, entries, order);
        }

        if (!IsIntact(bytes, out var count))
        {
            return new FileHashMemo(path, entries, order);
        }

        // Sized once: growing a concurrent table record by record costs a no-op run more than the file read.
        entries = new ConcurrentDictionary<FileIdentity, Entry>(Environment.ProcessorCount, count + 1024);
        order.Capacity = count;

        for (var i = 0; i < count; i++)
        {
            var record = bytes.AsSpan(HeaderSize + (i * RecordSize), RecordSize);
            var identity = new FileIdentity(
                BinaryPrimitives.ReadUInt64LittleEndian(record),
                BinaryPrimitives.ReadUInt64LittleEndian(record[8..]),
                BinaryPrimitives.ReadInt64LittleEndian(record[16..]),
                BinaryPrimitives.ReadInt64LittleEndian(record[24..]),
                BinaryPrimitives.ReadInt64LittleEndian(record[32..]));
            if (entries.TryAdd(identity, new Entry(record[40..].ToArray())))
            {
                order.Add(identity);
            }
        }

        return new FileHashMemo(path, entries, order);
    }

    /// <summary>The SHA-256 (32 bytes) remembered for <paramref name="identity"/>; marks it used, so <see cref="Save"/> keeps it first.</summary>
    public bool TryGet(in FileIdentity identity, out byte[] sha256)
    {
        if (!_entries.TryGetValue(identity, out var entry))
        {
            sha256 = [];
            return false;
        }

        entry.Used = true;

        sha256 = entry.Hash;
        return true;
    }

    /// <summary>
    /// Remembers <paramref name="sha256"/> for <paramref name="identity"/>, unless the file is racy: its mtime or ctime
    /// is within <see cref="RacyWindow"/> of <paramref name="readStartedUtc"/> (taken before the file was stat'ed and
    /// read) or after it. Returns whether it was remembered.
    /// </summary>
    public bool Set(in FileIdentity identity, byte[] sha256, DateTime readStartedUtc)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(sha256.Length, HashSize);
        var safeBefore = (readStartedUtc - DateTime.UnixEpoch - RacyWindow).Ticks * 100;
        if (identity.ModifiedNs >= safeBefore || identity.ChangedNs >= safeBefore)
        {
            return false;
        }

        _entries[identity] = new Entry(sha256) { Used = true };
        _added = true;
        return true;
    }

    /// <summary>
    /// Writes the memo back if this process added to it: to a temporary file beside it, then renamed over it,
    /// so readers never see a torn file. Concurrent runs race; the last rename wins, and either file is whole.
    /// </summary>
    public void Save()
    {
        if (!_added || _path is null)
        {
            return;
        }

        var snapshot = _entries.ToDictionary();
        var kept = snapshot.Where(e => e.Value.Used).Select(e => e.Key)
            .Concat(_loadOrder.Where(id => !snapshot[id].Used))
            .Take(Capacity)
            .ToList();

        var bytes = new byte[HeaderSize + (kept.Count * RecordSize) + HashSize];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), RecordSize);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), (ulong)kept.Count);
        for (var i = 0; i < kept.Count; i++)
        {
            var id = kept[i];
            var record = bytes.AsSpan(HeaderSize + (i * RecordSize), RecordSize);
            BinaryPrimitives.WriteUInt64LittleEndian(record, id.Device);
            BinaryPrimitives.WriteUInt64LittleEndian(record[8..], id.Inode);
            BinaryPrimitives.WriteInt64LittleEndian(record[16..], id.Size);
            BinaryPrimitives.WriteInt64LittleEndian(record[24..], id.ModifiedNs);
            BinaryPrimitives.WriteInt64LittleEndian(record[32..], id.ChangedNs);
            snapshot[id].Hash.CopyTo(record[40..]);
        }

        var body = bytes.Length - HashSize;
        KeySha256.HashData(bytes.AsSpan(0, body), bytes.AsSpan(body));

        AtomicFile.Write(_path, bytes);
    }

    private static bool IsIntact(byte[] bytes, out int count)
    {
        count = 0;
        if (bytes.Length < HeaderSize + HashSize
            || BinaryPrimitives.ReadUInt64LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)) != RecordSize)
        {
            return false;
        }

        var declared = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16));
        if (declared > Capacity || (ulong)bytes.Length != HeaderSize + (declared * RecordSize) + HashSize)
        {
            return false;
        }

        var body = bytes.Length - HashSize;
        Span<byte> digest = stackalloc byte[HashSize];
        KeySha256.HashData(bytes.AsSpan(0, body), digest);
        if (!digest.SequenceEqual(bytes.AsSpan(body)))
        {
            return false;
        }

        count = (int)declared;
        return true;
    }

    // A class, so marking it used is a field write, not a table update; a racing write of true is harmless.
    private sealed class Entry(byte[] hash)
    {
        public byte[] Hash { get; } = hash;

        public bool Used { get; set; }
    }
}
