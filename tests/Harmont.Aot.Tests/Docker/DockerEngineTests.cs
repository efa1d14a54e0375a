using System.Net;
using Docker.DotNet.Models;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>The engine as the backend reaches it through the library: connecting, what "already gone" means, and what a refusal says.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerEngineTests))]
public sealed class DockerEngineTests
{

    [Test]
    [Arguments("unix:///nonexistent/docker.sock")]
    [Arguments("tcp://127.0.0.1:1")]
    public async Task Nothing_answering_is_no_engine_not_an_error(string dockerHost,CancellationToken cancellationToken)
    {
        await Assert.That(await DockerEngine.ConnectAsync(DockerHost.Parse(dockerHost), cancellationToken)).IsNull();
    }

    [Test]
    public async Task Api_version_is_negotiated_within_the_supported_range()
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        await Assert.That(engine.ApiVersion).IsBetween(DockerEngine.MinimumApiVersion, DockerEngine.MaximumApiVersion);
    }

    [Test]
    public async Task Imported_image_exists_and_carries_its_labels(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        using var engine = await DockerTestEngine.ConnectAsync();

        await Assert.That(await engine.ImageExistsAsync(BusyboxImage.Image, cancellationToken)).IsTrue();
        await Assert.That(await engine.ImageExistsAsync("harmont-test/never-built:nope", cancellationToken)).IsFalse();
        var images = await engine.ListImagesAsync("dev.harmont.aot.test=1", cancellationToken);
        await Assert.That(images).Contains(i => i.RepoTags?.Contains(BusyboxImage.Image) == true);
    }

    [Test]
    public async Task Engine_errors_carry_status_and_message(CancellationToken cancellationToken)
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        var ex = (await Assert.That(async () => await engine.GuardAsync(() => engine.CommitAsync("harmont-no-such-container", "harmont-test/x", "y", new Dictionary<string, string>(), cancellationToken)))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.StatusCode).IsEqualTo(HttpStatusCode.NotFound);
        await Assert.That(ex.EngineMessage).Contains("harmont-no-such-container", StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains(ex.EngineMessage, StringComparison.Ordinal);
    }

    [Test]
    public async Task Removing_what_is_already_gone_is_fine(CancellationToken cancellationToken)
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        await engine.RemoveContainerAsync("harmont-no-such-container", cancellationToken);
        await engine.KillContainerAsync("harmont-no-such-container", cancellationToken);
        await engine.RemoveImageAsync("harmont-test/never-built:nope", force: true, cancellationToken);
        await Assert.That(await engine.InspectContainerAsync("harmont-no-such-container", cancellationToken)).IsNull();
    }

    [Test]
    public async Task Removing_a_container_the_engine_is_removing_already_waits_for_it(CancellationToken cancellationToken)
    {
        // An AutoRemove container that ends (as a network holder does when its run lets go) is removed by the
        // engine; a removal asked meanwhile is refused with 409 "already in progress". Raced twenty times: each
        // removal must return without an error, with the container gone.
        await BusyboxImage.EnsureAsync();
        using var engine = await DockerTestEngine.ConnectAsync();
        for (var i = 0; i < 20; i++)
        {
            var id = (await engine.Api.Containers.CreateContainerAsync(
                new CreateContainerParameters
                {
                    Image = BusyboxImage.Image,
                    Cmd = ["true"],
                    HostConfig = new HostConfig { AutoRemove = true, NetworkMode = "none" },
                },
                cancellationToken)).ID;
            await engine.StartContainerAsync(id, cancellationToken);
            await Task.Delay(i, cancellationToken);

            await engine.RemoveContainerAsync(id, force: true, cancellationToken);

            await Assert.That(await engine.InspectContainerAsync(id, cancellationToken)).IsNull();
        }
    }

    [Test]
    public async Task Attached_before_start_the_output_has_every_line_in_order_and_the_tail(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        using var engine = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.test.run={Guid.NewGuid():N}";
        var id = await engine.CreateContainerAsync(
            BusyboxImage.Image,
            ["sh", "-c", "seq 1 20000; printf 'tail-no-newline' >&2; exit 7"],
            new Dictionary<string, string> { [label.Split('=')[0]] = label.Split('=')[1] },
            cancellationToken);
        try
        {
            await Assert.That(await engine.ListContainersAsync(label, cancellationToken)).HasSingleItem();
            var (stdout, stderr) = (new List<string>(), new List<string>());
            using (var output = await engine.Api.Containers.AttachContainerAsync(
                       id, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, cancellationToken))
            {
                var lines = AttachedOutput.ReadLinesAsync(output, (s, l) => (s == LogStream.Stdout ? stdout : stderr).Add(l), SecretMasker.None, cancellationToken);
                await engine.StartContainerAsync(id, cancellationToken);

                await Assert.That(await engine.WaitContainerAsync(id, cancellationToken)).IsEqualTo(7);
                await lines;
            }

            await Assert.That(stdout)
                .IsEquivalentTo(Enumerable.Range(1, 20000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), CollectionOrdering.Matching);
            await Assert.That(stderr).IsEquivalentTo((IEnumerable<string>)["tail-no-newline"], CollectionOrdering.Matching);
        }
        finally
        {
            await engine.RemoveContainerAsync(id, CancellationToken.None);
        }

        await Assert.That(await engine.ListContainersAsync(label, cancellationToken)).IsEmpty();
    }
}
