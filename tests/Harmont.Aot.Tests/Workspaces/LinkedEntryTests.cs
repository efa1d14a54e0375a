using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// A root step's cache entry is its whole workspace, and on an overlay its files are hard-linked from the layers
/// (the run's source snapshot, the step's upper layer) instead of copied. Checked against the simpler reference,
/// a byte copy of the same workspace (<see cref="TreeCloner.CloneTreeAsync"/>), on generated trees and edits, with
/// both overlays: same paths, types, modes, sizes, times, contents and link targets; and never an inode of the
/// user's own tree.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class LinkedEntryTests
{
    private static readonly UnixFileMode[] FileModes =
    [
        (UnixFileMode)Convert.ToInt32("644", 8), (UnixFileMode)Convert.ToInt32("755", 8),
        (UnixFileMode)Convert.ToInt32("600", 8), (UnixFileMode)Convert.ToInt32("444", 8),
    ];

    private static readonly UnixFileMode[] DirectoryModes =
    [
        (UnixFileMode)Convert.ToInt32("755", 8), (UnixFileMode)Convert.ToInt32("700", 8), (UnixFileMode)Convert.ToInt32("555", 8),
    ];

    public static IEnumerable<(string Strategy, int Seed)> Cases()
    {
        foreach (var strategy in new[] { WorkspaceStrategies.Overlay, WorkspaceStrategies.FuseOverlay })
        {
            for (var seed = 1; seed <= 12; seed++)
            {
                yield return (strategy, seed);
            }
        }
    }

    [Test]
    [MethodDataSource(nameof(Cases))]
    public async Task A_root_entry_linked_from_its_layers_equals_a_copy_of_its_workspace(string strategy, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var root = Directory.CreateTempSubdirectory("harmont-linked-entry-").FullName;
        try
        {
            var source = Path.Combine(root, "src");
            GenerateTree(random, source);
            var userTree = Inodes(source);
            var linked = Path.Combine(root, "staging", "linked");
            var copied = Path.Combine(root, "staging", "copied");
            Directory.CreateDirectory(Path.Combine(root, "staging"));

            var workspaceStrategy = Trees.Strategy(strategy);
            Dictionary<string, string> expected;
            await using (var workspaces = new RunWorkspaces(Path.Combine(root, "work", "run"), source, workspaceStrategy))
            {
                var workspace = await workspaces.ForRootAsync("root", cancellationToken);
                var edits = await EditAsync(random, workspace, cancellationToken);

                var layered = await workspaces.PersistAsync(workspace, linked, lastUse: false, cancellationToken);
                await new TreeCloner(reflink: false).CloneTreeAsync(workspace, copied, cancellationToken);

                await Assert.That(layered).IsNull().Because("a root's entry is a whole tree");
                expected = Describe(copied);
                await Assert.That(Describe(linked)).IsEquivalentTo(expected, CollectionOrdering.Any).Because(string.Join("\n", edits));
                await Assert.That(workspaceStrategy.Cloner.Counters.LinkedFiles > 0).IsTrue().Because("the files came from the layers, not a copy");
            }

            // The run's layers are gone; the entry's files are its own now, and none is a file of the user's tree.
            await Assert.That(Describe(linked)).IsEquivalentTo(expected, CollectionOrdering.Any);
            await Assert.That(Inodes(linked).Keys.Intersect(userTree.Keys)).IsEmpty();
        }
        finally
        {
            await Exec.RunAsync("rm", ["-rf", root], "/", CancellationToken.None);
        }
    }

    // A source tree: nested files of random sizes, modes and times, symlinks in and out of it, empty directories.
    private static void GenerateTree(Random random, string source)
    {
        Directory.CreateDirectory(source);
        var directories = new List<string> { "" };
        for (var i = 0; i < 6; i++)
        {
            var directory = Path.Combine(directories[random.Next(directories.Count)], $"d{i}");
            Directory.CreateDirectory(Path.Combine(source, directory));
            directories.Add(directory);
        }

        for (var i = 0; i < 30; i++)
        {
            var file = Path.Combine(source, directories[random.Next(directories.Count)], $"f{i}.txt");
            File.WriteAllBytes(file, RandomBytes(random));
            File.SetUnixFileMode(file, FileModes[random.Next(FileModes.Length)]);
            File.SetLastWriteTimeUtc(file, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next(1_000_000)));
        }

        File.CreateSymbolicLink(Path.Combine(source, "d0", "to-f"), "../f1.txt");
        File.CreateSymbolicLink(Path.Combine(source, "outside"), "/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(source, "dangling"), "nowhere/at/all");
        foreach (var directory in directories.Skip(1).Where(_ => random.Next(3) == 0))
        {
            File.SetUnixFileMode(Path.Combine(source, directory), DirectoryModes[random.Next(DirectoryModes.Length)]);
        }
    }

    // What a step might do to its workspace, through the mount: the layers see it as the overlay makes it.
    private static async Task<List<string>> EditAsync(Random random, string workspace, CancellationToken cancellationToken)
    {
        var done = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            // Regular files only: a FIFO made earlier would block a write.
            var files = Directory.EnumerateFiles(workspace, "*", SearchOption.AllDirectories)
                .Where(f => LinuxSyscalls.Stat(f, out var status) == Errno.None && status.IsRegular).ToList();
            var directories = Directory.EnumerateDirectories(workspace, "*", SearchOption.AllDirectories)
                .Where(d => new DirectoryInfo(d).LinkTarget is null).Prepend(workspace).ToList();
            var file = files.Count > 0 ? files[random.Next(files.Count)] : null;
            var directory = directories[random.Next(directories.Count)];
            var fresh = Path.Combine(directory, $"new{i}");
            var edit = random.Next(12);
            done.Add($"{edit} {Path.GetRelativePath(workspace, file ?? directory)}");
            switch (edit)
            {
                case 0 when file is not null:
                    await File.WriteAllBytesAsync(file, RandomBytes(random), cancellationToken);
                    break;
                case 1 when file is not null:
                    await File.AppendAllTextAsync(file, "appended\n", cancellationToken);
                    break;
                case 2 when file is not null:
                    File.SetUnixFileMode(file, FileModes[random.Next(FileModes.Length)]);
                    break;
                case 3 when file is not null:
                    File.SetLastWriteTimeUtc(file, new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next(1000)));
                    break;
                case 4 when file is not null:
                    File.Delete(file);
                    break;
                case 5 when directory != workspace:
                    Directory.Delete(directory, recursive: true);
                    break;
                case 6 when file is not null:
                    File.Move(file, fresh);
                    break;
                case 7 when file is not null:
                    // A file that becomes a directory.
                    File.Delete(file);
                    Directory.CreateDirectory(file);
                    await File.WriteAllTextAsync(Path.Combine(file, "inside"), "was a file", cancellationToken);
                    break;
                case 8 when file is not null:
                    await Assert.That((await Exec.RunAsync("ln", [file, fresh], workspace, cancellationToken)).ExitCode).IsEqualTo(0);
                    break;
                case 9:
                    await Assert.That((await Exec.RunAsync("mkfifo", [fresh], workspace, cancellationToken)).ExitCode).IsEqualTo(0);
                    break;
                case 10:
                    File.CreateSymbolicLink(fresh, random.Next(2) == 0 ? "../f2.txt" : "/etc/passwd");
                    break;
                default:
                    await File.WriteAllBytesAsync(fresh, RandomBytes(random), cancellationToken);
                    File.SetUnixFileMode(fresh, FileModes[random.Next(FileModes.Length)]);
                    break;
            }
        }

        return done;
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 3) == 0 ? 0 : random.Next(1, 20_000)];
        random.NextBytes(bytes);
        return bytes;
    }

    // Every entry below root as what a cache entry must keep of it: type, mode, size, modification time to the
    // nanosecond, and the content's hash or the link's target.
    private static Dictionary<string, string> Describe(string root)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (LinuxSyscalls.Stat(path, out var status) != Errno.None)
            {
                throw new IOException($"cannot stat {path}");
            }

            var what = status.IsSymlink ? $"-> {new FileInfo(path).LinkTarget}"
                : status.IsRegular ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))
                : status.IsDirectory ? "dir"
                : "special";
            var time = status.IsSymlink ? "" : $"{status.Modification.Seconds}.{status.Modification.Nanoseconds:D9}";
            result[Path.GetRelativePath(root, path)] = string.Create(CultureInfo.InvariantCulture, $"{status.Mode:X} {(status.IsDirectory ? 0 : status.Size)} {time} {what}");
        }

        return result;
    }

    private static Dictionary<(ulong Device, ulong Inode), string> Inodes(string root)
    {
        var result = new Dictionary<(ulong, ulong), string>();
        foreach (var path in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (LinuxSyscalls.Stat(path, out var status) == Errno.None && status.IsRegular)
            {
                result[(status.Device, status.Inode)] = path;
            }
        }

        return result;
    }
}
