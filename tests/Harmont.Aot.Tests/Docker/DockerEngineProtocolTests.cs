using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

// Wire-protocol cases the real engine on this machine cannot be made to produce.
public sealed class DockerEngineProtocolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Newer_engine_is_spoken_to_at_our_maximum_version()
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.47","Version":"27.0.0"}"""),
            _ => (404, """{"message":"no such image"}"""),
        });
        using var client = new DockerEngineClient(engine.Endpoint);

        Assert.False(await client.ImageExistsAsync("alpine:3.20", Ct));
        Assert.Equal(["GET /version", "GET /v1.43/images/alpine:3.20/json"], engine.Requests);
    }

    [Fact]
    public async Task Engine_older_than_1_41_is_refused_with_a_clear_error()
    {
        await using var engine = new FakeEngine(_ => (200, """{"ApiVersion":"1.40"}"""));
        using var client = new DockerEngineClient(engine.Endpoint);

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => client.ImageExistsAsync("alpine", Ct));

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
                {"status":"Downloading","progress":"[==>   ] 1MB/3MB","id":"abc123"}
                {"errorDetail":{"message":"read tcp: connection reset by peer"},"error":"read tcp: connection reset by peer"}
                """),
        });
        using var client = new DockerEngineClient(engine.Endpoint);
        var progress = new List<string>();

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => client.PullImageAsync("alpine:3.20", progress.Add, Ct));

        Assert.Contains("'alpine:3.20'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("connection reset by peer", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["3.20 Pulling from library/alpine", "abc123 Downloading [==>   ] 1MB/3MB"], progress);
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
        Assert.Equal((name, tag), DockerEngineClient.SplitReference(image));
    }

    [Fact]
    public async Task Error_body_that_is_not_json_is_reported_as_text()
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            _ => (502, "bad gateway from a proxy"),
        });
        using var client = new DockerEngineClient(engine.Endpoint);

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => client.ImageExistsAsync("alpine", Ct));

        Assert.Equal(System.Net.HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Contains("bad gateway from a proxy", ex.Message, StringComparison.Ordinal);
    }
}
