using System.Net;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

// Engine replies the real engine on this machine cannot be made to produce.
public sealed class DockerEngineProtocolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Newer_engine_is_spoken_to_at_our_maximum_version()
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.60","Version":"40.0.0"}"""),
            _ => (404, """{"message":"no such image"}"""),
        });
        using var client = await engine.ConnectAsync();

        Assert.Null(await client.InspectImageAsync("alpine:3.20", Ct));
        Assert.Equal(["GET /version", "GET /v1.52/images/alpine:3.20/json"], engine.Requests);
    }

    [Fact]
    public async Task Engine_older_than_1_41_is_refused_with_a_clear_error()
    {
        await using var engine = new FakeEngine(_ => (200, """{"ApiVersion":"1.40"}"""));

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => DockerBackend.TryConnectAsync(engine.Endpoint, null, Ct));

        Assert.Contains("1.40", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1.41", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["GET /version"], engine.Requests);
    }

    [Fact]
    public async Task Pull_error_inside_a_200_stream_names_the_image_and_the_reason()
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            _ => (200, """
                {"status":"Pulling from library/alpine","id":"3.20"}
                {"status":"Downloading","progressDetail":{"current":1048576,"total":3145728},"progress":"[==>   ] 1MB/3MB","id":"abc123"}
                {"errorDetail":{"message":"read tcp: connection reset by peer"},"error":"read tcp: connection reset by peer"}
                """),
        });
        using var client = await engine.ConnectAsync();
        var progress = new List<string>();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => client.PullImageAsync("alpine:3.20", progress.Add, TimeSpan.Zero, Ct));

        Assert.Contains("'alpine:3.20'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("connection reset by peer", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["3.20 Pulling from library/alpine", "abc123 Downloading 1.0 MiB/3.0 MiB"], progress);
        Assert.Equal("POST /v1.41/images/create?fromImage=alpine&tag=3.20", engine.Requests[^1]);
    }

    [Theory]
    [InlineData("alpine", "alpine", "latest")]
    [InlineData("alpine:3.20", "alpine", "3.20")]
    [InlineData("localhost:5000/team/app", "localhost:5000/team/app", "latest")]
    [InlineData("localhost:5000/team/app:v2", "localhost:5000/team/app", "v2")]
    [InlineData("alpine@sha256:abcd", "alpine", "sha256:abcd")]
    public void Image_references_split_into_name_and_tag(string image, string name, string tag)
    {
        Assert.Equal((name, tag), DockerEngine.SplitReference(image));
    }

    [Fact]
    public async Task Error_body_that_is_not_json_is_reported_as_text()
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            _ => (502, "bad gateway from a proxy"),
        });
        await using var backend = new DockerBackend(await engine.ConnectAsync());

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => backend.HasSnapshotAsync("sha256:abc", Ct));

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Contains("bad gateway from a proxy", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_gone_after_connecting_is_an_error_naming_where_it_was()
    {
        var engine = new FakeEngine(_ => (200, """{"ApiVersion":"1.41"}"""));
        await using var backend = new DockerBackend(await engine.ConnectAsync());
        await engine.DisposeAsync();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => backend.HasSnapshotAsync("sha256:abc", Ct));

        Assert.Contains(DockerHost.Describe(engine.Endpoint), ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.StatusCode);
    }
}
