using System.Runtime.Versioning;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>A run killed before it could clean up is reaped, mounts and all, when the next one starts.</summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(AbandonedRunsTests))]
public sealed class AbandonedRunsTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("harmont-abandoned-").FullName;

    public void Dispose()
    {
        MountTable.UnmountUnder(_workDir);
        Directory.Delete(_workDir, recursive: true);
    }

    [Test]
    public async Task A_dead_runs_mounts_and_files_are_reaped_and_a_live_run_is_left_alone(CancellationToken cancellationToken)
    {
        var source = Path.Combine(_workDir, "src");
        Trees.Write(source, "a.txt", "a");

        // A run whose process died mid-step: its overlay is still mounted and nobody holds its lock.
        RunDirectory.Claim(_workDir, "dead").Dispose();
        var dead = Path.Combine(_workDir, "run-dead");
        var abandoned = new RunWorkspaces(dead, source, Trees.Strategy(WorkspaceStrategies.Overlay));
        var mounted = await abandoned.ForRootAsync("step", cancellationToken);
        await Assert.That(Trees.MountsUnder(_workDir)).Contains(mounted);

        using var liveClaim = RunDirectory.Claim(_workDir, "live");
        await using var live = new RunWorkspaces(liveClaim.Path, source, new CopyStrategy());
        await live.ForRootAsync("step", cancellationToken);

        var reaped = RunDirectory.CollectStale(_workDir);

        await Assert.That(reaped).IsEquivalentTo((IEnumerable<string>)[dead], CollectionOrdering.Matching);
        await Assert.That(Trees.MountsUnder(_workDir)).IsEmpty();
        await Assert.That(Directory.Exists(dead)).IsFalse();
        await Assert.That(Directory.Exists(Path.Combine(liveClaim.Path, "source"))).IsTrue();
    }
}
