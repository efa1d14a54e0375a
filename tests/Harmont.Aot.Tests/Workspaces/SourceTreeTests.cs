using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>The source listing (docs/workspaces.md): what is on disk and not ignored, whatever the index says.</summary>
[NotInParallel(nameof(SourceTreeTests))]
public sealed class SourceTreeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-source-tree-").FullName;

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Lists_tracked_and_untracked_files_on_disk_and_leaves_out_deleted_sparse_and_ignored_ones(CancellationToken cancellationToken)
    {
        await GitAsync("init", "-q");
        Write(".gitignore", "ignored.txt\n");
        Write("kept.txt", "kept");
        Write("deleted.txt", "gone soon");
        Write("sparse/hidden.txt", "not checked out");
        Write("dir/nested.txt", "nested");
        File.CreateSymbolicLink(Path.Combine(_root, "dangling"), "no-such-target");
        await GitAsync("add", "-A");
        await GitAsync("-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "init");

        // Deleted from the work tree but still in the index; marked skip-worktree and absent, as a sparse checkout leaves it.
        File.Delete(Path.Combine(_root, "deleted.txt"));
        await GitAsync("update-index", "--skip-worktree", "sparse/hidden.txt");
        Directory.Delete(Path.Combine(_root, "sparse"), recursive: true);
        Write("untracked.txt", "new");
        Write("ignored.txt", "ignored");

        var files = await SourceTree.ListAsync(_root, cancellationToken);

        await Assert.That(files.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)[".gitignore", "dangling", "dir/nested.txt", "kept.txt", "untracked.txt"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_repository_with_nothing_tracked_lists_its_untracked_files(CancellationToken cancellationToken)
    {
        await GitAsync("init", "-q");
        Write("new.txt", "new");

        await Assert.That(await SourceTree.ListAsync(_root, cancellationToken))
            .IsEquivalentTo((IEnumerable<string>)["new.txt"], CollectionOrdering.Matching);
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private async Task GitAsync(params string[] args)
    {
        var (exitCode, output) = await Exec.RunAsync("git", args, _root, Ct);
        await Assert.That(exitCode == 0).IsTrue().Because($"git {string.Join(' ', args)}: {output}");
    }
}
