using System.Net;
using Docker.DotNet.Models;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>The engine as the backend reaches it through the library: connecting, what "already gone" means, and what a refusal says.</summary>
[Trait("Requires", "docker")]
public sealed class DockerEngineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("unix:///nonexistent/docker.sock")]
    [InlineData("tcp://127.0.0.1:1")]
    public async Task Nothing_answering_is_no_engine_not_an_error(string dockerHost)
    {
        Assert.Null(await DockerEngine.ConnectAsync(DockerHost.Parse(dockerHost), Ct));
    }

    [Fact]
    public async Task Api_version_is_negotiated_within_the_supported_range()
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        Assert.InRange(engine.ApiVersion, DockerEngine.MinimumApiVersion, DockerEngine.MaximumApiVersion);
    }

    [Fact]
    public async Task Imported_image_exists_and_carries_its_labels()
    {
        await BusyboxImage.EnsureAsync();
        using var engine = await DockerTestEngine.ConnectAsync();

        Assert.True(await engine.ImageExistsAsync(BusyboxImage.Image, Ct));
        Assert.False(await engine.ImageExistsAsync("harmont-test/never-built:nope", Ct));
        var images = await engine.ListImagesAsync("dev.harmont.aot.test=1", Ct);
        Assert.Contains(images, i => i.RepoTags?.Contains(BusyboxImage.Image) == true);
    }

    [Fact]
    public async Task Engine_errors_carry_status_and_message()
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(
            () => engine.GuardAsync(() => engine.CommitAsync("harmont-no-such-container", "harmont-test/x", "y", new Dictionary<string, string>(), Ct)));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("harmont-no-such-container", ex.EngineMessage, StringComparison.Ordinal);
        Assert.Contains(ex.EngineMessage, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_what_is_already_gone_is_fine()
    {
        using var engine = await DockerTestEngine.ConnectAsync();

        await engine.RemoveContainerAsync("harmont-no-such-container", Ct);
        await engine.KillContainerAsync("harmont-no-such-container", Ct);
        await engine.RemoveImageAsync("harmont-test/never-built:nope", force: true, Ct);
        Assert.Null(await engine.InspectContainerAsync("harmont-no-such-container", Ct));
    }

    [Fact]
    public async Task Attached_before_start_the_output_has_every_line_in_order_and_the_tail()
    {
        await BusyboxImage.EnsureAsync();
        using var engine = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.test.run={Guid.NewGuid():N}";
        var id = await engine.CreateContainerAsync(
            BusyboxImage.Image,
            ["sh", "-c", "seq 1 20000; printf 'tail-no-newline' >&2; exit 7"],
            new Dictionary<string, string> { [label.Split('=')[0]] = label.Split('=')[1] },
            Ct);
        try
        {
            Assert.Single(await engine.ListContainersAsync(label, Ct));
            var (stdout, stderr) = (new List<string>(), new List<string>());
            using (var output = await engine.Api.Containers.AttachContainerAsync(
                       id, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, Ct))
            {
                var lines = AttachedOutput.ReadLinesAsync(output, (s, l) => (s == LogStream.Stdout ? stdout : stderr).Add(l), SecretMasker.None, Ct);
                await engine.StartContainerAsync(id, Ct);

                Assert.Equal(7, await engine.WaitContainerAsync(id, Ct));
                await lines;
            }

            Assert.Equal(Enumerable.Range(1, 20000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), stdout);
            Assert.Equal(["tail-no-newline"], stderr);
        }
        finally
        {
            await engine.RemoveContainerAsync(id, CancellationToken.None);
        }

        Assert.Empty(await engine.ListContainersAsync(label, Ct));
    }
}
