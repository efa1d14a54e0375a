using System.Runtime.Versioning;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>A run killed before it could clean up is reaped, mounts and all, when the next one starts.</summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class AbandonedRunsTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("harmont-abandoned-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        MountTable.UnmountUnder(_workDir);
        Directory.Delete(_workDir, recursive: true);
    }

    [Fact]
    public async Task A_dead_runs_mounts_and_files_are_reaped_and_a_live_run_is_left_alone()
    {
        var source = Path.Combine(_workDir, "src");
        Trees.Write(source, "a.txt", "a");

        // A run whose process died mid-step: its overlay is still mounted and nobody holds its lock.
        RunDirectory.Claim(_workDir, "dead").Dispose();
        var dead = Path.Combine(_workDir, "run-dead");
        var abandoned = new RunWorkspaces(dead, source, Trees.Strategy(WorkspaceStrategies.Overlay));
        var mounted = await abandoned.ForRootAsync("step", Ct);
        Assert.Contains(mounted, Trees.MountsUnder(_workDir));

        using var liveClaim = RunDirectory.Claim(_workDir, "live");
        await using var live = new RunWorkspaces(liveClaim.Path, source, new CopyStrategy());
        await live.ForRootAsync("step", Ct);

        var reaped = RunDirectory.CollectStale(_workDir);

        Assert.Equal([dead], reaped);
        Assert.Empty(Trees.MountsUnder(_workDir));
        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(Path.Combine(liveClaim.Path, "source")));
    }
}
