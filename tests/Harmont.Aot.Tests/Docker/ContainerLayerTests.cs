using System.Runtime.Versioning;
using Docker.DotNet.Models;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests.Docker;

/// <summary>
/// Whether a container changed anything outside its workspace is read from its overlay2 layer
/// (<see cref="ContainerLayer"/>); the engine's own change list is the oracle, on generated mixes of what a step
/// may do to its system, over an image whose layers replace a directory (an opaque one below the container).
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(ContainerLayerTests))]
[SupportedOSPlatform("linux")]
public sealed class ContainerLayerTests
{
    private const string LayeredImage = "harmont-test/layered:1";

    // What a step may do to its system; some change nothing a container can see.
    private static readonly string[] Actions =
    [
        "true",
        "cat /etc/passwd > /dev/null",
        "echo x > /workspace/new",
        "mkdir -p /workspace/a/b && touch /workspace/a/b/c",
        "touch /tmp/t && rm /tmp/t",
        "mkdir -p /d/deep/er && rmdir /d/deep/er",
        "mkdir -p /d/sub",
        "mkdir -p /d/sub/x && rmdir /d/sub/x",
        "echo x > /etc/added",
        "rm /etc/passwd",
        "touch /etc/group",
        "chmod 700 /etc",
        "chmod 1777 /tmp",
        "chown 1:1 /root",
        "chown 0:0 /root",
        "mkdir /newdir",
        "rm -rf /root && mkdir /root",
        "ln -s /nowhere /link",
        "mkfifo /fifo",
        "mv /bin/cat /bin/cat2 && mv /bin/cat2 /bin/cat",
        "cp -p /etc/passwd /tmp/p && mv /tmp/p /etc/passwd",
        "cp -p /etc/passwd /tmp/p && echo x >> /tmp/p && touch -r /etc/passwd /tmp/p && mv /tmp/p /etc/passwd",
        "chmod 600 /etc/group && chmod 644 /etc/group",
        "ln -s /etc/passwd /d/link && rm /d/link",
    ];

    [Before(Class)]
    public static async Task BuildLayeredImageAsync()
    {
        // Three layers over busybox: /d/sub and /d/deep/er, then /d replaced by an empty /d (opaque), so the
        // image has /d but not /d/sub, though a lower layer still holds one.
        await BusyboxImage.EnsureAsync();
        var script = $"""
            set -e
            docker rm -f harmont-layered-a harmont-layered-b >/dev/null 2>&1 || true
            docker run --name harmont-layered-a --network none {BusyboxImage.Image} sh -c 'mkdir -p /d/sub /d/deep/er'
            docker commit harmont-layered-a harmont-test/layered:a >/dev/null
            docker run --name harmont-layered-b --network none harmont-test/layered:a sh -c 'rm -rf /d && mkdir /d/ && mkdir -p /d/deep'
            docker commit harmont-layered-b {LayeredImage} >/dev/null
            docker rm -f harmont-layered-a harmont-layered-b >/dev/null
            docker rmi harmont-test/layered:a >/dev/null
            """;
        var (exit, output) = await Exec.RunAsync("sh", ["-c", script], Environment.CurrentDirectory, CancellationToken.None);
        if (exit != 0)
        {
            throw new InvalidOperationException($"building {LayeredImage} failed: {output}");
        }
    }

    [Test]
    public async Task The_layer_says_what_the_engines_change_list_says(CancellationToken cancellationToken)
    {
        using var engine = await DockerTestEngine.ConnectAsync();
        var random = new Random(20261130);
        var cases = Actions.Select(a => (Command: a, Cwd: "/workspace")).ToList();
        cases.Add(("true", "/workspace/deep/sub"));
        cases.Add(("echo x > /etc/added", "/workspace/deep"));
        for (var i = 0; i < 12; i++)
        {
            cases.Add((string.Join(" && ", Enumerable.Range(0, random.Next(2, 4)).Select(_ => Actions[random.Next(Actions.Length)])), "/workspace"));
        }

        var workspace = Directory.CreateTempSubdirectory("harmont-layer-");
        var (changed, unchanged) = (0, 0);
        try
        {
            foreach (var (command, cwd) in cases)
            {
                var id = (await engine.Api.Containers.CreateContainerAsync(
                    new CreateContainerParameters
                    {
                        Image = LayeredImage,
                        Cmd = ["sh", "-c", command],
                        WorkingDir = cwd,
                        Labels = new Dictionary<string, string> { [DockerNames.OwnerLabel] = "1" },
                        HostConfig = new HostConfig { Binds = [$"{workspace.FullName}:/workspace"], NetworkMode = "none" },
                    },
                    cancellationToken)).ID;
                try
                {
                    await engine.Api.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken);
                    var exit = await engine.Api.Containers.WaitContainerAsync(id, cancellationToken);
                    await Assert.That(exit.StatusCode).IsEqualTo(0).Because(command);

                    var layer = (await engine.InspectContainerAsync(id, cancellationToken))!.GraphDriver!;
                    await Assert.That(layer.Name).IsEqualTo("overlay2").Because("the engine these tests use stores containers with overlay2");
                    var ours = ContainerLayer.ChangedOutsideWorkspace(layer.Data["UpperDir"], layer.Data["LowerDir"].Split(':'));
                    var changes = await engine.Api.Containers.InspectChangesAsync(id, cancellationToken) ?? [];
                    var engineSays = !changes.All(c => DockerBackend.IsHiddenByWorkspace(c.Path));
                    await Assert.That(ours).IsNotNull().Because("this test runs as root beside a local engine, so the layer is readable");
                    await Assert.That(ours!.Value)
                        .IsEqualTo(engineSays)
                        .Because($"'{command}' in {cwd}: the engine reports [{string.Join(", ", changes.Select(c => $"{c.Kind} {c.Path}"))}]");
                    (changed, unchanged) = engineSays ? (changed + 1, unchanged) : (changed, unchanged + 1);
                }
                finally
                {
                    await engine.RemoveContainerAsync(id, force: true, CancellationToken.None);
                }
            }
        }
        finally
        {
            workspace.Delete(recursive: true);
        }

        // Both verdicts were tried, many times each.
        await Assert.That(changed).IsGreaterThan(10);
        await Assert.That(unchanged).IsGreaterThan(5);
    }

    [Test]
    [Arguments(null, "/var/lib/docker/overlay2/x/diff")]
    [Arguments("", "/var/lib/docker/overlay2/x/diff")]
    [Arguments("relative/diff", "/var/lib/docker/overlay2/x/diff")]
    [Arguments("/nonexistent/harmont/layer/diff", "/tmp")]
    [Arguments("/tmp", "relative/lower")]
    [Arguments("/tmp", "/nonexistent/harmont/lower")]
    public async Task A_layer_this_process_cannot_read_leaves_the_verdict_to_the_engine(string? upper, string lower)
    {
        await Assert.That(ContainerLayer.ChangedOutsideWorkspace(upper, [lower])).IsNull();
    }

    [After(Class)]
    public static async Task RemoveLayeredImageAsync()
    {
        await Exec.RunAsync("docker", ["rmi", LayeredImage], Environment.CurrentDirectory, CancellationToken.None);
    }
}
