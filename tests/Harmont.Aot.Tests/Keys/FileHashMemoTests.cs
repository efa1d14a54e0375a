using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Harmont.Aot.Keys;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Tests;

public sealed class FileHashMemoTests : IDisposable
{
    private static readonly DateTime Now = DateTime.UtcNow;

    private readonly string _dir = Directory.CreateTempSubdirectory("harmont-memo-").FullName;

    private string MemoPath => Path.Combine(_dir, "state", "hashes.bin");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Entries_round_trip_through_save_and_load()
    {
        var memo = FileHashMemo.Load(MemoPath);
        Assert.Equal(0, memo.Count);
        var identities = Enumerable.Range(1, 50).Select(i => Old(i)).ToList();
        foreach (var id in identities)
        {
            Assert.True(memo.Set(id, HashOf(id), Now));
        }

        memo.Save();

        var loaded = FileHashMemo.Load(MemoPath);
        Assert.Equal(50, loaded.Count);
        foreach (var id in identities)
        {
            Assert.True(loaded.TryGet(id, out var hash));
            Assert.Equal(HashOf(id), hash);
        }

        Assert.False(loaded.TryGet(Old(51), out _));
        Assert.False(loaded.TryGet(Old(1) with { ChangedNs = Old(1).ChangedNs + 1 }, out _));
    }

    [Fact]
    public void Every_identity_field_is_part_of_the_key()
    {
        var memo = FileHashMemo.Load(MemoPath);
        var id = Old(7);
        memo.Set(id, HashOf(id), Now);

        FileIdentity[] others =
        [
            id with { Device = id.Device + 1 },
            id with { Inode = id.Inode + 1 },
            id with { Size = id.Size + 1 },
            id with { ModifiedNs = id.ModifiedNs + 1 },
            id with { ChangedNs = id.ChangedNs + 1 },
        ];
        Assert.All(others, other => Assert.False(memo.TryGet(other, out _)));
        Assert.True(memo.TryGet(id, out _));
    }

    [Fact]
    public void A_missing_file_loads_as_empty() =>
        Assert.Equal(0, FileHashMemo.Load(Path.Combine(_dir, "no", "such", "file")).Count);

    [Theory]
    [InlineData("truncated")]
    [InlineData("bit-flip")]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("count-lies")]
    [InlineData("other-version")]
    public void A_damaged_file_loads_as_empty_without_throwing(string damage)
    {
        var memo = FileHashMemo.Load(MemoPath);
        for (var i = 0; i < 10; i++)
        {
            memo.Set(Old(i), HashOf(Old(i)), Now);
        }

        memo.Save();
        var bytes = File.ReadAllBytes(MemoPath);
        Assert.Equal(10, FileHashMemo.Load(MemoPath).Count);

        byte[] damaged = damage switch
        {
            "truncated" => bytes[..(bytes.Length - 40)],
            "bit-flip" => Flip(bytes, 24 + 72 + 45), // Inside the second record's hash.
            "garbage" => [.. Enumerable.Range(0, bytes.Length).Select(i => (byte)(i * 31))],
            "empty" => [],
            "count-lies" => Flip(bytes, 16),
            "other-version" => Flip(bytes, 8),
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        };
        File.WriteAllBytes(MemoPath, damaged);

        Assert.Equal(0, FileHashMemo.Load(MemoPath).Count);
    }

    [Fact]
    public void Racy_entries_are_not_stored_and_old_ones_are()
    {
        var memo = FileHashMemo.Load(MemoPath);
        var safe = Nanoseconds(Now - FileHashMemo.RacyWindow) - 1_000_000;

        var recentModification = Old(1) with { ModifiedNs = Nanoseconds(Now - TimeSpan.FromSeconds(1)) };
        var recentChange = Old(2) with { ChangedNs = Nanoseconds(Now - TimeSpan.FromSeconds(1)) };
        var future = Old(3) with { ModifiedNs = Nanoseconds(Now + TimeSpan.FromSeconds(5)) };
        var edge = Old(4) with { ModifiedNs = Nanoseconds(Now - FileHashMemo.RacyWindow), ChangedNs = Nanoseconds(Now - FileHashMemo.RacyWindow) };
        var justOld = Old(5) with { ModifiedNs = safe, ChangedNs = safe };

        Assert.False(memo.Set(recentModification, HashOf(recentModification), Now));
        Assert.False(memo.Set(recentChange, HashOf(recentChange), Now));
        Assert.False(memo.Set(future, HashOf(future), Now));
        Assert.False(memo.Set(edge, HashOf(edge), Now));
        Assert.True(memo.Set(justOld, HashOf(justOld), Now));

        Assert.False(memo.TryGet(recentModification, out _));
        Assert.False(memo.TryGet(recentChange, out _));
        Assert.Equal(1, memo.Count);

        memo.Save();
        var loaded = FileHashMemo.Load(MemoPath);
        Assert.Equal(1, loaded.Count);
        Assert.True(loaded.TryGet(justOld, out _));
    }

    [Fact]
    public void A_memo_with_only_racy_entries_writes_nothing()
    {
        var memo = FileHashMemo.Load(MemoPath);
        var fresh = Old(1) with { ChangedNs = Nanoseconds(Now) };
        memo.Set(fresh, HashOf(fresh), Now);

        memo.Save();

        Assert.False(File.Exists(MemoPath));
    }

    [Fact]
    public void A_hash_of_the_wrong_length_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FileHashMemo.Load(MemoPath).Set(Old(1), new byte[31], Now));

    [Fact]
    public void Save_replaces_the_file_atomically_and_leaves_no_temporary_files()
    {
        var memo = FileHashMemo.Load(MemoPath);
        memo.Set(Old(1), HashOf(Old(1)), Now);
        memo.Save();

        var directory = Path.GetDirectoryName(MemoPath)!;
        Assert.Equal([MemoPath], Directory.GetFiles(directory));

        // A second save goes to a new file renamed over the old one: a reader holding the old file keeps it whole.
        var before = File.ReadAllBytes(MemoPath);
        using (var reader = new FileStream(MemoPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var more = FileHashMemo.Load(MemoPath);
            more.Set(Old(2), HashOf(Old(2)), Now);
            more.Save();

            var held = new byte[before.Length + 1];
            Assert.Equal(before.Length, reader.ReadAtLeast(held, held.Length, throwOnEndOfStream: false));
            Assert.Equal(before, held[..before.Length]);
        }

        Assert.Equal([MemoPath], Directory.GetFiles(directory));
        Assert.Equal(2, FileHashMemo.Load(MemoPath).Count);
    }

    [Fact]
    public void Concurrent_sets_and_gets_are_safe()
    {
        var memo = FileHashMemo.Load(MemoPath);
        Parallel.For(0, 10_000, i =>
        {
            var id = Old(i % 1_000);
            memo.Set(id, HashOf(id), Now);
            Assert.True(memo.TryGet(id, out var hash));
            Assert.Equal(HashOf(id), hash);
        });
        memo.Save();

        Assert.Equal(1_000, FileHashMemo.Load(MemoPath).Count);
    }

    [Fact]
    public void Entries_loaded_but_unused_are_kept_after_the_ones_this_run_used()
    {
        var memo = FileHashMemo.Load(MemoPath);
        for (var i = 0; i < 5; i++)
        {
            memo.Set(Old(i), HashOf(Old(i)), Now);
        }

        memo.Save();

        var next = FileHashMemo.Load(MemoPath);
        Assert.True(next.TryGet(Old(3), out _));
        next.Set(Old(9), HashOf(Old(9)), Now);
        next.Save();

        var loaded = FileHashMemo.Load(MemoPath);
        Assert.Equal(6, loaded.Count);
        Assert.All(Enumerable.Range(0, 5).Append(9), i => Assert.True(loaded.TryGet(Old(i), out _)));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task Stat_reports_the_inode_and_ctime_that_stat_1_does()
    {
        var file = Path.Combine(_dir, "file");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, "file");

        foreach (var path in new[] { file, link, _dir })
        {
            Assert.Equal(Errno.None, LinuxSyscalls.Stat(path, out var status));
            var (exit, output) = await Exec.RunAsync("stat", ["-c", "%i %.9Z %.9Y %s", path], _dir, TestContext.Current.CancellationToken);
            Assert.True(exit == 0, output);

            var parts = output.Trim().Split(' ');
            Assert.Equal(ulong.Parse(parts[0], CultureInfo.InvariantCulture), status.Inode);
            Assert.Equal(parts[1], $"{status.Change.Seconds}.{status.Change.Nanoseconds:D9}");
            Assert.Equal(parts[2], $"{status.Modification.Seconds}.{status.Modification.Nanoseconds:D9}");
            Assert.Equal(long.Parse(parts[3], CultureInfo.InvariantCulture), status.Size);
        }

        // ctime moves on chmod, which leaves mtime alone.
        Assert.Equal(Errno.None, LinuxSyscalls.Stat(file, out var before));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMilliseconds(20))
        {
            await Task.Yield();
        }

        File.SetUnixFileMode(file, UnixFileMode.UserRead);
        Assert.Equal(Errno.None, LinuxSyscalls.Stat(file, out var after));
        Assert.NotEqual(before.Change, after.Change);
        Assert.Equal(before.Modification, after.Modification);
        Assert.Equal(before.Inode, after.Inode);
    }

    private static FileIdentity Old(int i)
    {
        var old = Nanoseconds(Now - TimeSpan.FromDays(1)) + i;
        return new FileIdentity(0x0000_0008_0000_0001, (ulong)(1000 + i), 100 + i, old, old + 7);
    }

    private static long Nanoseconds(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks * 100;

    private static byte[] HashOf(FileIdentity id) => SHA256.HashData(BitConverter.GetBytes(id.Inode));

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x40;
        return copy;
    }
}
