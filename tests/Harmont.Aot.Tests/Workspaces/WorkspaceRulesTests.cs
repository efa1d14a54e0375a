using System.Runtime.Versioning;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// The workspace rules of docs/workspaces.md, checked for every strategy on a real filesystem (the loop-mounted XFS, so
/// reflink is real too): source base, lineage, isolation, freeing, and no leaks however a run ends.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(WorkspaceRulesTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class WorkspaceRulesTests(XfsLoopMount xfs)
{
    public static IEnumerable<string> Strategies => [.. WorkspaceStrategies.Names];

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task Root_gets_the_source_base_honouring_git_ignores_and_never_writes_the_tree(string strategy,CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("repo");
        Trees.Write(source, ".gitignore", "ignored.txt\nbuild/\n");
        Trees.Write(source, "tracked.txt", "v1");
        Trees.Write(source, "build/out.bin", "ignored dir");
        Trees.Write(source, "excluded.txt", "excluded via info/exclude");
        await GitAsync(source, "init", "-q");
        await File.AppendAllTextAsync(Path.Combine(source, ".git", "info", "exclude"), "excluded.txt\n", cancellationToken);
        await GitAsync(source, "add", ".gitignore", "tracked.txt");
        await GitAsync(source, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
        Trees.Write(source, "tracked.txt", "v2 uncommitted");
        Trees.Write(source, "untracked.txt", "new");
        Trees.Write(source, "ignored.txt", "ignored");
        var before = Trees.Read(source);

        var runRoot = Path.Combine(xfs.NewDirectory("work"), "run");
        await using (var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy)))
        {
            var root = await workspaces.ForRootAsync("root", cancellationToken);
            await Assert.That(Trees.Read(root))
                .IsEquivalentTo(Trees.Expect((".gitignore", "ignored.txt\nbuild/\n"), ("tracked.txt", "v2 uncommitted"), ("untracked.txt", "new")), CollectionOrdering.Any);
            Trees.Write(root, "tracked.txt", "written by the step");
            Trees.Write(root, "made.txt", "made");
        }

        await Assert.That(Trees.Read(source)).IsEquivalentTo(before, CollectionOrdering.Any);
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task Children_get_their_parents_output_exactly_and_siblings_never_see_each_other(string strategy,CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "keep.txt", "keep");
        Trees.Write(source, "edit.txt", "original");
        Trees.Write(source, "gone.txt", "deleted by the parent");
        var runRoot = Path.Combine(xfs.NewDirectory("work"), "run");
        await using var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy));

        var parent = await workspaces.ForRootAsync("parent", cancellationToken);
        Trees.Write(parent, "edit.txt", "edited by parent");
        Trees.Write(parent, "out/artifact.txt", "artifact");
        File.Delete(Path.Combine(parent, "gone.txt"));
        var parentOutput = Trees.Read(parent);
        workspaces.KeepOutput("parent", parent, children: 2);

        var left = await workspaces.ForChildAsync("left", "parent", cancellationToken);
        var right = await workspaces.ForChildAsync("right", "parent", cancellationToken);
        await Assert.That(Trees.Read(left)).IsEquivalentTo(parentOutput, CollectionOrdering.Any);
        await Assert.That(Trees.Read(right)).IsEquivalentTo(parentOutput, CollectionOrdering.Any);

        Trees.Write(left, "left.txt", "left");
        Trees.Write(left, "edit.txt", "edited by left");
        File.Delete(Path.Combine(left, "keep.txt"));
        await Assert.That(Trees.Read(right)).IsEquivalentTo(parentOutput, CollectionOrdering.Any);

        // A grandchild sees its whole lineage: the parent's output under the left child's changes.
        var leftOutput = Trees.Read(left);
        workspaces.KeepOutput("left", left, children: 1);
        var grandchild = await workspaces.ForChildAsync("grandchild", "left", cancellationToken);
        await Assert.That(Trees.Read(grandchild)).IsEquivalentTo(leftOutput, CollectionOrdering.Any);
        await Assert.That(Trees.Read(right)).IsEquivalentTo(parentOutput, CollectionOrdering.Any);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(source, "edit.txt"), cancellationToken)).IsEqualTo("original");
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_parents_output_is_freed_once_its_last_child_has_started_and_finished_with_it(string strategy,CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "a.txt", "a");
        var runRoot = Path.Combine(xfs.NewDirectory("work"), "run");
        await using var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy));

        var parent = await workspaces.ForRootAsync("parent", cancellationToken);
        Trees.Write(parent, "parent.txt", "p");
        workspaces.KeepOutput("parent", parent, children: 2);
        var first = await workspaces.ForChildAsync("first", "parent", cancellationToken);
        workspaces.Release("parent"); // The second child was skipped.
        workspaces.KeepOutput("first", first, children: 0);

        // Only the source base is left: no workspace, layer or mount of either step.
        await Assert.That(Trees.MountsUnder(runRoot)).IsEmpty();
        await Assert.That(TopLevelNonEmpty(runRoot)).IsEquivalentTo((IEnumerable<string>)["source"], CollectionOrdering.Matching);
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_failed_run_leaves_no_mount_and_no_directory(string strategy,CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "a.txt", "a");
        var workDir = xfs.NewDirectory("work");
        var runRoot = Path.Combine(workDir, "run");
        var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy));
        try
        {
            var parent = await workspaces.ForRootAsync("parent", cancellationToken);
            workspaces.KeepOutput("parent", parent, children: 3);
            var running = await workspaces.ForChildAsync("running", "parent", cancellationToken);
            var failed = await workspaces.ForChildAsync("failed", "parent", cancellationToken);
            Trees.Write(running, "half-done.txt", "x");

            // What the scheduler does when a step fails: its workspace is deleted, the rest stays live.
            RunWorkspaces.Delete(failed);
            await Assert.That(Directory.Exists(failed)).IsFalse();
            await Assert.That(Trees.MountsUnder(runRoot)).DoesNotContain(failed);
            if (strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay)
            {
                await Assert.That(Trees.MountsUnder(runRoot)).Contains(running);
            }

            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.That(async () => await workspaces.ForChildAsync("cancelled", "parent", cancelled.Token))
                .Throws<OperationCanceledException>();
        }
        finally
        {
            await workspaces.DisposeAsync();
        }

        await Assert.That(Trees.MountsUnder(workDir)).IsEmpty();
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task Discarding_a_workspace_unmounts_it_and_frees_its_own_layer_at_once(string strategy,CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "a.txt", "a");
        var runRoot = Path.Combine(xfs.NewDirectory("work"), "run");
        await using var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy));

        var root = await workspaces.ForRootAsync("root", cancellationToken);
        Trees.Write(root, "big.bin", new string('x', 100_000));
        workspaces.Discard(root);

        await Assert.That(Trees.MountsUnder(runRoot)).IsEmpty();
        await Assert.That(TopLevelNonEmpty(runRoot)).IsEquivalentTo((IEnumerable<string>)["source"], CollectionOrdering.Matching);
    }

    // Top-level entries of the run root that still hold something (ws/ and layers/ may stay as empty folders).
    private static List<string> TopLevelNonEmpty(string runRoot) =>
        [.. Directory.GetDirectories(runRoot)
            .Where(d => Directory.EnumerateFileSystemEntries(d).Any())
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal)];

    private static async Task GitAsync(string dir, params string[] args)
    {
        var (exitCode, output) = await Exec.RunAsync("git", args, dir, Ct);
        await Assert.That(exitCode == 0).IsTrue().Because($"git {string.Join(' ', args)}: {output}");
    }
}
