using System.Runtime.Versioning;
using System.Text;
using Harmont.Aot.Cache;
using Harmont.Aot.Containment;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Cache;

/// <summary>File names are bytes (docs/workspaces.md, containment): whatever Linux allows in a workspace survives export and import exactly.</summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(BundleNameTests))]
public sealed class BundleNameTests : IDisposable
{
    private const string Key = "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef";
    private readonly RunHarness _harness = new();

    public void Dispose()
    {
        // The harness deletes through System.IO, which cannot name a file whose name is not UTF-8.
        HostileTree.Delete(_harness.Cache);
        _harness.Dispose();
    }

    [Test]
    public async Task Names_and_link_targets_that_are_not_utf8_or_hold_newlines_round_trip_byte_for_byte()
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        using (var workspace = ContainedRoot.Open(Path.Combine(staged, "workspace")))
        {
            await MakeFile(workspace, L("bad\xffname"), "invalid utf-8");
            await MakeFile(workspace, L("new\nline"), "a newline");
            await MakeFile(workspace, L("tab\tcr\rbell\a"), "control characters");
            await MakeFile(workspace, L("caf\xc3\xa9 \xe2\x9c\x93.txt"), "valid utf-8");
            await MakeFile(workspace, Encoding.ASCII.GetBytes(new string('n', 255)), "the longest name");
            workspace.EnsureDirectory(PathBytes.Decode(L("dir\xfe\n")));
            await MakeFile(workspace, L("dir\xfe\n/inner\x80"), "inside an odd directory");
            await MakeLink(workspace, L("link\xff"), L("bad\xffname"));
            await MakeLink(workspace, L("nl-link"), L("dir\xfe\n/inner\x80"));
        }

        store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "names", Created = DateTimeOffset.UtcNow });
        var before = await Snapshot(Path.Combine(_harness.Cache, "entries", Key, "workspace"));
        var bundle = Path.Combine(_harness.Root, "names.tar.gz");

        var export = await _harness.RunAsync([], ["cache", "export", bundle]);
        var clean = await _harness.RunAsync([], ["cache", "clean"]);
        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await Assert.That(export.ExitCode == 0).IsTrue().Because(export.ToString());
        await Assert.That(clean.Output).Contains("1 entries removed", StringComparison.Ordinal);
        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(import.Output).Contains("imported 1 entries", StringComparison.Ordinal);
        await Assert.That(await Snapshot(Path.Combine(_harness.Cache, "entries", Key, "workspace"))).IsEquivalentTo(before, CollectionOrdering.Matching);
    }

    // Every entry as bytes: name, kind, mode, and content or link target.
    private static async Task<List<string>> Snapshot(string directory)
    {
        using var root = ContainedRoot.Open(directory);
        var lines = new List<string>();
        foreach (var entry in ContainedTree.Walk(root))
        {
            var what = entry.Status.IsSymlink ? $"link {Convert.ToHexString(root.ReadLink(entry.Relative))}"
                : entry.Status.IsRegular ? $"file {Convert.ToHexString(await Read(root, entry.Relative))}"
                : entry.Status.IsDirectory ? "dir" : "other";
            lines.Add($"{Convert.ToHexString(PathBytes.Encode(entry.Relative))} {what} {entry.Status.Mode & 0x1ff:x}");
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static async Task<byte[]> Read(ContainedRoot root, string relative)
    {
        using var handle = root.TryOpen(relative, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        await Assert.That(error).IsEqualTo(Errno.None);
        using var stream = new FileStream(handle, FileAccess.Read);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    // Each char of the literal is one byte, so "\xff" is the byte 0xff, not the UTF-8 of U+00FF.
    private static byte[] L(string bytes) => Encoding.Latin1.GetBytes(bytes);

    private static async Task MakeFile(ContainedRoot root, byte[] name, string content)
    {
        using var handle = root.TryOpen(PathBytes.Decode(name), LinuxSyscalls.CreateNewFlags, 0x1a4, out var error);
        await Assert.That(error).IsEqualTo(Errno.None);
        using var stream = new FileStream(handle, FileAccess.Write);
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    private static async Task MakeLink(ContainedRoot root, byte[] name, byte[] target)
    {
        byte[] terminated = [.. target, 0];
        await Assert.That(LinuxSyscalls.SymlinkAt(terminated, root.Handle, PathBytes.EncodeTerminated(PathBytes.Decode(name)))).IsEqualTo(Errno.None);
    }
}
