using System.Runtime.Versioning;
using Harmont.Aot.Keys;
using Harmont.Aot.Runners.Host;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests;

/// <summary>
/// The stable path works whatever the workspace is: a reflink clone or a copy (a plain directory),
/// a kernel overlay or a fuse-overlayfs mount; bound in a namespace, or moved or bound there serially.
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class StablePathStrategyTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    public static TheoryData<string, string> Cases =>
        [.. WorkspaceStrategies.Names.SelectMany(s => new[] { (s, "namespace"), (s, "serial") })];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_step_and_every_run_sees_the_workspace_at_one_path(string strategy, string isolation)
    {
        using var harness = new RunHarness();
        var cache = xfs.NewDirectory("cache");
        harness.Env["HARMONT_CACHE_DIR"] = cache;
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = strategy;
        harness.Env[HostIsolation.EnvironmentVariable] = isolation;
        var project = await ProjectIdentity.ResolveAsync(null, harness.Source, TestContext.Current.CancellationToken);
        var stable = StableWorkspace.PathFor(Path.Combine(cache, "work"), project, "host-pwd");

        var cold = await harness.RunAsync(HostPwd.Definition);
        var warm = await harness.RunAsync(HostPwd.Definition);

        foreach (var run in new[] { cold, warm })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal([stable, stable, "same-as-parent"], run.LogsOf("check"));
            Assert.Equal([Path.Combine(stable, "sub"), stable], run.LogsOf("in-sub"));
        }

        Assert.Equal([stable], cold.LogsOf("record"));
        Assert.True(warm.Hit("record"));
        Assert.Empty(harness.LeftoverMounts());
        Assert.Empty(RunHarness.RunDirsIn(Path.Combine(cache, "work")));
        Assert.True(!Directory.Exists(stable) || Directory.GetFileSystemEntries(stable).Length == 0, $"{stable} is not empty");
    }
}
