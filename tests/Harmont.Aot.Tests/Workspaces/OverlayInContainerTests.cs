using System.Runtime.Versioning;
using Harmont.Aot.Runners;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// An overlay workspace (kernel or fuse-overlayfs) bind-mounted into a real container: the container's
/// root writes through it, the host sees the result and can delete it, and nothing stays mounted.
/// </summary>
[Trait("Requires", "docker")]
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class OverlayInContainerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-overlay-docker-").FullName;
    private readonly List<string> _stdout = [];

    public static TheoryData<string> Overlays => [WorkspaceStrategies.Overlay, WorkspaceStrategies.FuseOverlay];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Container_root_writes_through_the_overlay_and_the_host_deletes_the_result(string strategy)
    {
        await BusyboxImage.EnsureAsync();
        var source = Path.Combine(_root, "src");
        Trees.Write(source, "in.txt", "from host");
        Trees.Write(source, "locked/readme.txt", "in a read-only directory");
        File.SetUnixFileMode(Path.Combine(source, "locked"), (UnixFileMode)0b101_101_101);
        var workDir = Path.Combine(_root, "work");
        var runRoot = Path.Combine(workDir, "run");
        await using var backend = await DockerTestEngine.BackendAsync();

        await using (var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy)))
        {
            var workspace = await workspaces.ForRootAsync("step", Ct);
            Assert.Contains(workspace, Trees.MountsUnder(runRoot));

            var result = await backend.RunAsync(
                new StepInvocation(
                    $"test-{Guid.NewGuid():N}", "step",
                    "id -u; cat in.txt; echo; echo root-wrote > made.txt; mkdir -p out/deep && echo x > out/deep/f; " +
                    "echo more > locked/new.txt; rm in.txt; chmod 600 made.txt",
                    workspace, BusyboxImage.Image, [], KeepSnapshot: false, (_, line) => _stdout.Add(line)),
                Ct);

            Assert.True(result.ExitCode == 0, string.Join('\n', _stdout));
            Assert.Equal(["0", "from host"], _stdout);
            Assert.Equal("root-wrote\n", await File.ReadAllTextAsync(Path.Combine(workspace, "made.txt"), Ct));
            Assert.Equal("more\n", await File.ReadAllTextAsync(Path.Combine(workspace, "locked/new.txt"), Ct));
            Assert.False(File.Exists(Path.Combine(workspace, "in.txt")));

            // The host frees it: unmounted, upper layer deleted, nothing left behind.
            workspaces.KeepOutput("step", workspace, children: 0);
            Assert.Empty(Trees.MountsUnder(runRoot));
            Assert.False(Directory.Exists(workspace));
            Assert.DoesNotContain(
                Directory.EnumerateFiles(runRoot, "*", SearchOption.AllDirectories),
                f => !f.StartsWith(Path.Combine(runRoot, "source"), StringComparison.Ordinal));
        }

        Assert.Equal("from host", await File.ReadAllTextAsync(Path.Combine(source, "in.txt"), Ct));
        Assert.False(File.Exists(Path.Combine(source, "locked/new.txt")));
        Assert.Empty(Trees.MountsUnder(workDir));
        Assert.Empty(Directory.GetFileSystemEntries(workDir));
    }
}
