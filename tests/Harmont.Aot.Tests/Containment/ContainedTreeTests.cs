using System.Runtime.Versioning;
using Harmont.Aot.Containment;

namespace Harmont.Aot.Tests.Containment;

/// <summary>Deleting trees by handle when something else removes parts of them first.</summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(ContainedTreeTests))]
public sealed class ContainedTreeTests
{
    // An overlay whose upper layer is deleted before its mount point reads so; a run's cleanup met it and failed.
    [Test]
    public async Task A_directory_removed_while_it_is_open_reads_as_empty_and_deletes_as_gone()
    {
        var dir = Directory.CreateTempSubdirectory("harmont-tree-");
        try
        {
            var inner = Path.Combine(dir.FullName, "gone");
            Directory.CreateDirectory(inner);
            using var root = ContainedRoot.Open(dir.FullName);
            using var handle = root.OpenDirectory("gone");
            Directory.Delete(inner);

            await Assert.That(ContainedTree.ReadNames(handle)).IsEmpty();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
