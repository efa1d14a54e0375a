using System.Runtime.Versioning;
using Harmont.Aot.Keys;
using Harmont.Aot.Runners.Host;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The stable path works whatever the workspace is: a reflink clone or a copy (a plain directory),
/// a kernel overlay or a fuse-overlayfs mount; bound in a namespace, or moved or bound there serially.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(StablePathStrategyTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class StablePathStrategyTests(XfsLoopMount xfs)
{
    public static IEnumerable<(string, string)> Cases =>
        [.. WorkspaceStrategies.Names.SelectMany(s => new[] { (s, "namespace"), (s, "serial") })];

    [Test]
    [MethodDataSource(nameof(Cases))]
    public async Task Every_step_and_every_run_sees_the_workspace_at_one_path(string strategy, string isolation,CancellationToken cancellationToken)
    {
        using var harness = new RunHarness();
        var cache = xfs.NewDirectory("cache");
        harness.Env["HARMONT_CACHE_DIR"] = cache;
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = strategy;
        harness.Env[HostIsolation.EnvironmentVariable] = isolation;
        var project = await ProjectIdentity.ResolveAsync(null, harness.Source, cancellationToken);
        var stable = StableWorkspace.PathFor(Path.Combine(cache, "work"), project, "host-pwd");

        var cold = await harness.RunAsync(HostPwd.Definition);
        var warm = await harness.RunAsync(HostPwd.Definition);

        foreach (var run in new[] { cold, warm })
        {
            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
            await Assert.That(run.LogsOf("check"))
                .IsEquivalentTo((IEnumerable<string>)[stable, stable, "same-as-parent"], CollectionOrdering.Matching);
            await Assert.That(run.LogsOf("in-sub"))
                .IsEquivalentTo((IEnumerable<string>)[Path.Combine(stable, "sub"), stable], CollectionOrdering.Matching);
        }

        await Assert.That(cold.LogsOf("record")).IsEquivalentTo((IEnumerable<string>)[stable], CollectionOrdering.Matching);
        await Assert.That(warm.Hit("record")).IsTrue();
        await Assert.That(harness.LeftoverMounts()).IsEmpty();
        await Assert.That(RunHarness.RunDirsIn(Path.Combine(cache, "work"))).IsEmpty();
        await Assert.That(!Directory.Exists(stable) || Directory.GetFileSystemEntries(stable).Length == 0).IsTrue().Because($"{stable} is not empty");
    }
}
