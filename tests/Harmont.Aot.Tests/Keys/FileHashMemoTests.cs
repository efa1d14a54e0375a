using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Harmont.Aot.Keys;
using Harmont.Aot.Native.Linux;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(FileHashMemoTests))]
public sealed class FileHashMemoTests : IDisposable
{
    private static readonly DateTime Now = DateTime.UtcNow;

    private readonly string _dir = Directory.CreateTempSubdirectory("harmont-memo-").FullName;

    private string MemoPath => Path.Combine(_dir, "state", "hashes.bin");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Entries_round_trip_through_save_and_load()
    {
        var memo = FileHashMemo.Load(MemoPath);
        await Assert.That(memo.Count).IsEqualTo(0);
        var identities = Enumerable.Range(1, 50).Select(i => Old(i)).ToList();
        foreach (var id in identities)
        {
            await Assert.That(memo.Set(id, HashOf(id), Now)).IsTrue();
        }

        memo.Save();

        var loaded = FileHashMemo.Load(MemoPath);
        await Assert.That(loaded.Count).IsEqualTo(50);
        foreach (var id in identities)
        {
            await Assert.That(loaded.TryGet(id, out var hash)).IsTrue();
            await Assert.That(hash).IsEquivalentTo(HashOf(id), CollectionOrdering.Matching);
        }

        await Assert.That(loaded.TryGet(Old(51), out _)).IsFalse();
        await Assert.That(loaded.TryGet(Old(1) with { ChangedNs = Old(1).ChangedNs + 1 }, out _)).IsFalse();
    }

    [Test]
    public async Task Every_identity_field_is_part_of_the_key()
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
        foreach (var other in others)
        {
            await Assert.That(memo.TryGet(other, out _)).IsFalse();
        }
        await Assert.That(memo.TryGet(id, out _)).IsTrue();
    }

    [Test]
    public async Task A_missing_file_loads_as_empty() =>
        await Assert.That(FileHashMemo.Load(Path.Combine(_dir, "no", "such", "file")).Count).IsEqualTo(0);

    [Test]
    [Arguments("truncated")]
    [Arguments("bit-flip")]
    [Arguments("garbage")]
    [Arguments("empty")]
    [Arguments("count-lies")]
    [Arguments("other-version")]
    public async Task A_damaged_file_loads_as_empty_without_throwing(string damage)
    {
        var memo = FileHashMemo.Load(MemoPath);
        for (var i = 0; i < 10; i++)
        {
            memo.Set(Old(i), HashOf(Old(i)), Now);
        }

        memo.Save();
        var bytes = File.ReadAllBytes(MemoPath);
        await Assert.That(FileHashMemo.Load(MemoPath).Count).IsEqualTo(10);

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

        await Assert.That(FileHashMemo.Load(MemoPath).Count).IsEqualTo(0);
    }

    [Test]
    public async Task Racy_entries_are_not_stored_and_old_ones_are()
    {
        var memo = FileHashMemo.Load(MemoPath);
        var safe = Nanoseconds(Now - FileHashMemo.RacyWindow) - 1_000_000;

        var recentModification = Old(1) with { ModifiedNs = Nanoseconds(Now - TimeSpan.FromSeconds(1)) };
        var recentChange = Old(2) with { ChangedNs = Nanoseconds(Now - TimeSpan.FromSeconds(1)) };
        var future = Old(3) with { ModifiedNs = Nanoseconds(Now + TimeSpan.FromSeconds(5)) };
        var edge = Old(4) with { ModifiedNs = Nanoseconds(Now - FileHashMemo.RacyWindow), ChangedNs = Nanoseconds(Now - FileHashMemo.RacyWindow) };
        var justOld = Old(5) with { ModifiedNs = safe, ChangedNs = safe };

        await Assert.That(memo.Set(recentModification, HashOf(recentModification), Now)).IsFalse();
        await Assert.That(memo.Set(recentChange, HashOf(recentChange), Now)).IsFalse();
        await Assert.That(memo.Set(future, HashOf(future), Now)).IsFalse();
        await Assert.That(memo.Set(edge, HashOf(edge), Now)).IsFalse();
        await Assert.That(memo.Set(justOld, HashOf(justOld), Now)).IsTrue();

        await Assert.That(memo.TryGet(recentModification, out _)).IsFalse();
        await Assert.That(memo.TryGet(recentChange, out _)).IsFalse();
        await Assert.That(memo.Count).IsEqualTo(1);

        memo.Save();
        var loaded = FileHashMemo.Load(MemoPath);
        await Assert.That(loaded.Count).IsEqualTo(1);
        await Assert.That(loaded.TryGet(justOld, out _)).IsTrue();
    }

    [Test]
    public async Task A_memo_with_only_racy_entries_writes_nothing()
    {
        var memo = FileHashMemo.Load(MemoPath);
        var fresh = Old(1) with { ChangedNs = Nanoseconds(Now) };
        memo.Set(fresh, HashOf(fresh), Now);

        memo.Save();

        await Assert.That(File.Exists(MemoPath)).IsFalse();
    }

    [Test]
    public async Task A_hash_of_the_wrong_length_is_refused() =>
        await Assert.That(() => FileHashMemo.Load(MemoPath).Set(Old(1), new byte[31], Now)).ThrowsExactly<ArgumentOutOfRangeException>();

    [Test]
    public async Task Save_replaces_the_file_atomically_and_leaves_no_temporary_files()
    {
        var memo = FileHashMemo.Load(MemoPath);
        memo.Set(Old(1), HashOf(Old(1)), Now);
        memo.Save();

        var directory = Path.GetDirectoryName(MemoPath)!;
        await Assert.That(Directory.GetFiles(directory)).IsEquivalentTo((IEnumerable<string>)[MemoPath], CollectionOrdering.Matching);

        // A second save goes to a new file renamed over the old one: a reader holding the old file keeps it whole.
        var before = File.ReadAllBytes(MemoPath);
        using (var reader = new FileStream(MemoPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var more = FileHashMemo.Load(MemoPath);
            more.Set(Old(2), HashOf(Old(2)), Now);
            more.Save();

            var held = new byte[before.Length + 1];
            await Assert.That(reader.ReadAtLeast(held, held.Length, throwOnEndOfStream: false)).IsEqualTo(before.Length);
            await Assert.That(held[..before.Length]).IsEquivalentTo(before, CollectionOrdering.Matching);
        }

        await Assert.That(Directory.GetFiles(directory)).IsEquivalentTo((IEnumerable<string>)[MemoPath], CollectionOrdering.Matching);
        await Assert.That(FileHashMemo.Load(MemoPath).Count).IsEqualTo(2);
    }

    [Test]
    public async Task Concurrent_sets_and_gets_are_safe()
    {
        var memo = FileHashMemo.Load(MemoPath);
        // ForAsync, not For: the assertions inside are awaited, and For would leave them running unobserved.
        await Parallel.ForAsync(0, 10_000, async (i, _) =>
        {
            var id = Old(i % 1_000);
            memo.Set(id, HashOf(id), Now);
            await Assert.That(memo.TryGet(id, out var hash)).IsTrue();
            await Assert.That(hash).IsEquivalentTo(HashOf(id), CollectionOrdering.Matching);
        });
        memo.Save();

        await Assert.That(FileHashMemo.Load(MemoPath).Count).IsEqualTo(1_000);
    }

    [Test]
    public async Task Entries_loaded_but_unused_are_kept_after_the_ones_this_run_used()
    {
        var memo = FileHashMemo.Load(MemoPath);
        for (var i = 0; i < 5; i++)
        {
            memo.Set(Old(i), HashOf(Old(i)), Now);
        }

        memo.Save();

        var next = FileHashMemo.Load(MemoPath);
        await Assert.That(next.TryGet(Old(3), out _)).IsTrue();
        next.Set(Old(9), HashOf(Old(9)), Now);
        next.Save();

        var loaded = FileHashMemo.Load(MemoPath);
        await Assert.That(loaded.Count).IsEqualTo(6);
        foreach (var i in Enumerable.Range(0, 5).Append(9))
        {
            await Assert.That(loaded.TryGet(Old(i), out _)).IsTrue();
        }
    }

    [Test]
    [SupportedOSPlatform("linux")]
    public async Task Stat_reports_the_inode_and_ctime_that_stat_1_does(CancellationToken cancellationToken)
    {
        var file = Path.Combine(_dir, "file");
        await File.WriteAllTextAsync(file, "x", cancellationToken);
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, "file");

        foreach (var path in new[] { file, link, _dir })
        {
            await Assert.That(LinuxSyscalls.Stat(path, out var status)).IsEqualTo(Errno.None);
            var (exit, output) = await Exec.RunAsync("stat", ["-c", "%i %.9Z %.9Y %s", path], _dir, cancellationToken);
            await Assert.That(exit == 0).IsTrue().Because(output);

            var parts = output.Trim().Split(' ');
            await Assert.That(status.Inode).IsEqualTo(ulong.Parse(parts[0], CultureInfo.InvariantCulture));
            await Assert.That($"{status.Change.Seconds}.{status.Change.Nanoseconds:D9}").IsEqualTo(parts[1]);
            await Assert.That($"{status.Modification.Seconds}.{status.Modification.Nanoseconds:D9}").IsEqualTo(parts[2]);
            await Assert.That(status.Size).IsEqualTo(long.Parse(parts[3], CultureInfo.InvariantCulture));
        }

        // ctime moves on chmod, which leaves mtime alone.
        await Assert.That(LinuxSyscalls.Stat(file, out var before)).IsEqualTo(Errno.None);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMilliseconds(20))
        {
            await Task.Yield();
        }

        File.SetUnixFileMode(file, UnixFileMode.UserRead);
        await Assert.That(LinuxSyscalls.Stat(file, out var after)).IsEqualTo(Errno.None);
        await Assert.That(after.Change).IsNotEqualTo(before.Change);
        await Assert.That(after.Modification).IsEqualTo(before.Modification);
        await Assert.That(after.Inode).IsEqualTo(before.Inode);
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
