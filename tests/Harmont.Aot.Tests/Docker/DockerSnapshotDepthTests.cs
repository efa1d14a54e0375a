using System.Diagnostics;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[Property("Requires", "docker")]
[NotInParallel(nameof(DockerSnapshotDepthTests))]
public sealed class DockerSnapshotDepthTests : IDisposable
{
    // Past the engine's 125-layer limit, so the chain only passes if snapshots are flattened.
    private const int ChainLength = 130;

    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-depth-").FullName;
    private readonly List<string> _stdout = [];

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    public async Task Chain_of_130_snapshots_passes_the_layer_limit_and_keeps_every_change(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        var clock = Stopwatch.StartNew();
        var deepest = 0;
        var image = BusyboxImage.Image;
        try
        {
            for (var i = 1; i < ChainLength; i++)
            {
                var result = await backend.RunAsync(Step($"echo {i} >> /root/chain.txt", $"s{i:000}", image) with { KeepSnapshot = true }, cancellationToken);
                await Assert.That(result.ExitCode).IsEqualTo(0);
                image = result.Snapshot!;
                deepest = Math.Max(deepest, (await client.InspectImageAsync(image, cancellationToken))!.LayerCount);
            }

            var last = await backend.RunAsync(
                Step($"echo {ChainLength} >> /root/chain.txt && wc -l < /root/chain.txt && test \"$(cat /root/chain.txt)\" = \"$(seq 1 {ChainLength})\"", "last", image),
                cancellationToken);

            await Assert.That(last.ExitCode).IsEqualTo(0);
            await Assert.That(Stdout())
                .IsEquivalentTo((IEnumerable<string>)[ChainLength.ToString(System.Globalization.CultureInfo.InvariantCulture)], CollectionOrdering.Matching);
            await Assert.That(deepest).IsBetween(2, DockerBackend.DefaultMaxSnapshotLayers);
            await Assert.That((await client.InspectImageAsync(image, cancellationToken))!.LayerCount < ChainLength - DockerBackend.DefaultMaxSnapshotLayers + 5)
                .IsTrue();
        }
        finally
        {
            await backend.ReapAsync(CancellationToken.None);
            TestContext.Current!.Output.WriteLine($"{ChainLength}-step chain took {clock.Elapsed}");
        }

        await Assert.That(await client.ListImagesAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
        await Assert.That(await client.ListContainersAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Flattened_snapshot_keeps_files_deletions_modes_and_the_config(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = new DockerBackend(await DockerTestEngine.ConnectAsync(), ownsEngine: true, maxSnapshotLayers: 1);
        using var client = await DockerTestEngine.ConnectAsync();
        const string Tricky = "a b \"quoted\" $HOME \\ and\na second line";
        try
        {
            var first = await backend.RunAsync(
                Step("mkdir -p /opt/app && echo kept > /opt/app/file && chown 123:456 /opt/app/file && chmod 4750 /opt/app/file && " +
                     "ln -s file /opt/app/link && rm /etc/group && echo in-workspace > ws.txt", "first", BusyboxImage.Image)
                    with { KeepSnapshot = true, Env = [KeyValuePair.Create("TRICKY", Tricky)] },
                cancellationToken);
            await Assert.That(first.ExitCode).IsEqualTo(0);

            var flat = await client.InspectImageAsync(first.Snapshot!, cancellationToken);
            await Assert.That(flat).IsNotNull();
            await Assert.That(flat.LayerCount).IsEqualTo(1);
            await Assert.That(flat.Config!.Env!).Contains($"TRICKY={Tricky}");
            await Assert.That(flat.Config.WorkingDir).IsEqualTo("/workspace");
            await Assert.That(flat.Config.Labels![DockerNames.EphemeralLabel]).IsEqualTo("1");
            await Assert.That(flat.Config.Labels[DockerNames.RunLabel]).IsEqualTo(_runId);

            // A fresh workspace: the bind-mounted one is not part of the container's filesystem, so not of the snapshot.
            var fresh = Directory.CreateDirectory(Path.Combine(_workspace, "fresh")).FullName;
            var second = await backend.RunAsync(
                Step("cat /opt/app/link; stat -c '%a %u:%g' /opt/app/file; test -e /etc/group || echo group-gone; ls -A; echo \"$TRICKY\"", "second", first.Snapshot!)
                    with { Workspace = fresh },
                cancellationToken);

            await Assert.That(second.ExitCode).IsEqualTo(0);
            await Assert.That(Stdout())
                .IsEquivalentTo((IEnumerable<string>)["kept", "4750 123:456", "group-gone", .. Tricky.Split('\n')], CollectionOrdering.Matching);
        }
        finally
        {
            await backend.ReapAsync(CancellationToken.None);
        }

        // The imported filesystem went with the snapshot that was its only child.
        await Assert.That(await client.ListImagesAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
        await Assert.That(await client.ListContainersAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
    }

    private StepInvocation Step(string command, string stepKey, string image) =>
        new(_runId, stepKey, command, _workspace, image, [], KeepSnapshot: false, Record);

    private void Record(LogStream stream, string line)
    {
        if (stream == LogStream.Stdout)
        {
            lock (_stdout)
            {
                _stdout.Add(line);
            }
        }
    }

    private List<string> Stdout()
    {
        lock (_stdout)
        {
            return [.. _stdout];
        }
    }
}
