using System.Diagnostics;
using System.Net;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

[Trait("Requires", "docker")]
public sealed class DockerEngineClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("unix:///nonexistent/docker.sock")]
    [InlineData("tcp://127.0.0.1:1")]
    public async Task Ping_is_false_quickly_when_nothing_answers(string dockerHost)
    {
        using var client = new DockerEngineClient(DockerEndpoint.Parse(dockerHost));
        var clock = Stopwatch.StartNew();

        Assert.False(await client.PingAsync(Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"ping took {clock.Elapsed}");
    }

    [Fact]
    public async Task Requests_to_an_absent_engine_name_the_endpoint()
    {
        using var client = new DockerEngineClient(DockerEndpoint.Parse("unix:///nonexistent/docker.sock"));

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => client.ImageExistsAsync("x", Ct));

        Assert.Contains("unix:///nonexistent/docker.sock", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_version_is_negotiated_within_the_supported_range()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        var version = Version.Parse(await client.GetApiVersionAsync(Ct));

        Assert.InRange(version, DockerEngineClient.MinimumApiVersion, DockerEngineClient.MaximumApiVersion);
    }

    [Fact]
    public async Task Imported_image_exists_and_carries_its_labels()
    {
        await BusyboxImage.EnsureAsync();
        using var client = await DockerTestEngine.ConnectAsync();

        Assert.True(await client.ImageExistsAsync(BusyboxImage.Image, Ct));
        Assert.False(await client.ImageExistsAsync("harmont-test/never-built:nope", Ct));
        var images = await client.ListImagesAsync("dev.harmont.aot.test=1", Ct);
        Assert.Contains(images, i => i.RepoTags?.Contains(BusyboxImage.Image) == true);
    }

    [Fact]
    public async Task Failed_pull_names_the_image_and_the_reason()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(
            () => client.PullImageAsync("harmont-test/never-built:nope", null, Ct));

        Assert.Contains("harmont-test/never-built:nope", ex.Message, StringComparison.Ordinal);
        Assert.NotEmpty(ex.EngineMessage);
    }

    [Fact]
    public async Task Engine_errors_carry_status_and_message()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(
            () => client.CommitAsync("harmont-no-such-container", "harmont-test/x", "y", null, Ct));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("harmont-no-such-container", ex.EngineMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_what_is_already_gone_is_fine()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        await client.RemoveContainerAsync("harmont-no-such-container", Ct);
        await client.KillContainerAsync("harmont-no-such-container", Ct);
        await client.RemoveImageAsync("harmont-test/never-built:nope", force: true, Ct);
    }

    [Fact]
    public async Task Attached_output_of_a_container_has_every_line_in_order()
    {
        await BusyboxImage.EnsureAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        var (label, value) = ("dev.harmont.aot.test.run", Guid.NewGuid().ToString("N"));
        var spec = new ContainerSpec(BusyboxImage.Image, ["sh", "-c", "seq 1 20000; printf 'tail-no-newline' >&2; exit 7"])
        {
            Labels = new Dictionary<string, string> { [label] = value },
        };
        var id = await client.CreateContainerAsync(spec, Ct);
        try
        {
            Assert.Single(await client.ListContainersAsync($"{label}={value}", Ct));
            var (stdout, stderr) = (new List<string>(), new List<string>());
            using (var output = await client.AttachAsync(id, Ct))
            {
                var lines = output.ReadLinesAsync((s, l) => (s == LogStream.Stdout ? stdout : stderr).Add(l), Ct);
                await client.StartContainerAsync(id, Ct);

                Assert.Equal(7, await client.WaitContainerAsync(id, Ct));
                await lines;
            }

            Assert.Equal(Numbers(20000), stdout);
            Assert.Equal(["tail-no-newline"], stderr);

            // The stored logs hold the same, read here without follow (whose tail the engine may drop).
            var (logOut, logErr) = (new List<string>(), new List<string>());
            await client.StreamLogsAsync(id, follow: false, (s, l) => (s == LogStream.Stdout ? logOut : logErr).Add(l), Ct);
            Assert.Equal(Numbers(20000), logOut);
            Assert.Equal(["tail-no-newline"], logErr);
        }
        finally
        {
            await client.RemoveContainerAsync(id, CancellationToken.None);
        }

        Assert.Empty(await client.ListContainersAsync($"{label}={value}", Ct));
    }

    private static IEnumerable<string> Numbers(int count) =>
        Enumerable.Range(1, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
