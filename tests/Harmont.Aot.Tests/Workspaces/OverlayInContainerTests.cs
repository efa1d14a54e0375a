using System.Runtime.Versioning;
using Harmont.Aot.Runners;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// An overlay workspace (kernel or fuse-overlayfs) bind-mounted into a real container: the container's
/// root writes through it, the host sees the result and can delete it, and nothing stays mounted.
/// </summary>
[Property("Requires", "docker")]
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(OverlayInContainerTests))]
public sealed class OverlayInContainerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-overlay-docker-").FullName;
    private readonly List<string> _stdout = [];

    public static IEnumerable<string> Overlays => [WorkspaceStrategies.Overlay, WorkspaceStrategies.FuseOverlay];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    [MethodDataSource(nameof(Overlays))]
    public async Task Container_root_writes_through_the_overlay_and_the_host_deletes_the_result(string strategy,CancellationToken cancellationToken)
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
            var workspace = await workspaces.ForRootAsync("step", cancellationToken);
            await Assert.That(Trees.MountsUnder(runRoot)).Contains(workspace);

            var result = await backend.RunAsync(
                new StepInvocation(
                    $"test-{Guid.NewGuid():N}", "step",
                    "id -u; cat in.txt; echo; echo root-wrote > made.txt; mkdir -p out/deep && echo x > out/deep/f; " +
                    "echo more > locked/new.txt; rm in.txt; chmod 600 made.txt",
                    workspace, BusyboxImage.Image, [], KeepSnapshot: false, (_, line) => _stdout.Add(line)),
                cancellationToken);

            await Assert.That(result.ExitCode == 0).IsTrue().Because(string.Join('\n', _stdout));
            await Assert.That(_stdout).IsEquivalentTo((IEnumerable<string>)["0", "from host"], CollectionOrdering.Matching);
            await Assert.That(await File.ReadAllTextAsync(Path.Combine(workspace, "made.txt"), cancellationToken)).IsEqualTo("root-wrote\n");
            await Assert.That(await File.ReadAllTextAsync(Path.Combine(workspace, "locked/new.txt"), cancellationToken)).IsEqualTo("more\n");
            await Assert.That(File.Exists(Path.Combine(workspace, "in.txt"))).IsFalse();

            // The host frees it: unmounted, upper layer deleted, nothing left behind.
            workspaces.KeepOutput("step", workspace, children: 0);
            await Assert.That(Trees.MountsUnder(runRoot)).IsEmpty();
            await Assert.That(Directory.Exists(workspace)).IsFalse();
            await Assert.That(Directory.EnumerateFiles(runRoot, "*", SearchOption.AllDirectories))
                .DoesNotContain(f => !f.StartsWith(Path.Combine(runRoot, "source"), StringComparison.Ordinal));
        }

        await Assert.That(await File.ReadAllTextAsync(Path.Combine(source, "in.txt"), cancellationToken)).IsEqualTo("from host");
        await Assert.That(File.Exists(Path.Combine(source, "locked/new.txt"))).IsFalse();
        await Assert.That(Trees.MountsUnder(workDir)).IsEmpty();
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }
}
