using System.Net;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

// Engine replies the real engine on this machine cannot be made to produce.
[NotInParallel(nameof(DockerEngineProtocolTests))]
public sealed class DockerEngineProtocolTests
{

    [Test]
    public async Task Newer_engine_is_spoken_to_at_our_maximum_version(CancellationToken cancellationToken)
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.60","Version":"40.0.0"}"""),
            _ => (404, """{"message":"no such image"}"""),
        });
        using var client = await engine.ConnectAsync();

        await Assert.That(await client.InspectImageAsync("alpine:3.20", cancellationToken)).IsNull();
        await Assert.That(engine.Requests)
            .IsEquivalentTo((IEnumerable<string>)["GET /version", "GET /v1.52/images/alpine:3.20/json"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Engine_older_than_1_41_is_refused_with_a_clear_error(CancellationToken cancellationToken)
    {
        await using var engine = new FakeEngine(_ => (200, """{"ApiVersion":"1.40"}"""));

        var ex = (await Assert.That(async () => await DockerBackend.TryConnectAsync(engine.Endpoint, null, cancellationToken))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains("1.40", StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains("1.41", StringComparison.Ordinal);
        await Assert.That(engine.Requests).IsEquivalentTo((IEnumerable<string>)["GET /version"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Pull_error_inside_a_200_stream_names_the_image_and_the_reason(CancellationToken cancellationToken)
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

        var ex = (await Assert.That(() => client.PullImageAsync("alpine:3.20", progress.Add, TimeSpan.Zero, cancellationToken))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains("'alpine:3.20'", StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains("connection reset by peer", StringComparison.Ordinal);
        await Assert.That(progress)
            .IsEquivalentTo((IEnumerable<string>)["3.20 Pulling from library/alpine", "abc123 Downloading 1.0 MiB/3.0 MiB"], CollectionOrdering.Matching);
        await Assert.That(engine.Requests[^1]).IsEqualTo("POST /v1.41/images/create?fromImage=alpine&tag=3.20");
    }

    [Test]
    [Arguments("alpine", "alpine", "latest")]
    [Arguments("alpine:3.20", "alpine", "3.20")]
    [Arguments("localhost:5000/team/app", "localhost:5000/team/app", "latest")]
    [Arguments("localhost:5000/team/app:v2", "localhost:5000/team/app", "v2")]
    [Arguments("alpine@sha256:abcd", "alpine", "sha256:abcd")]
    public async Task Image_references_split_into_name_and_tag(string image, string name, string tag)
    {
        await Assert.That(DockerEngine.SplitReference(image)).IsEqualTo((name, tag));
    }

    [Test]
    public async Task Error_body_that_is_not_json_is_reported_as_text(CancellationToken cancellationToken)
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            _ => (502, "bad gateway from a proxy"),
        });
        await using var backend = new DockerBackend(await engine.ConnectAsync());

        var ex = (await Assert.That(async () => await backend.HasSnapshotAsync("sha256:abc", cancellationToken)).ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.StatusCode).IsEqualTo(HttpStatusCode.BadGateway);
        await Assert.That(ex.Message).Contains("bad gateway from a proxy", StringComparison.Ordinal);
    }

    [Test]
    public async Task Engine_gone_after_connecting_is_an_error_naming_where_it_was(CancellationToken cancellationToken)
    {
        var engine = new FakeEngine(_ => (200, """{"ApiVersion":"1.41"}"""));
        await using var backend = new DockerBackend(await engine.ConnectAsync());
        await engine.DisposeAsync();

        var ex = (await Assert.That(async () => await backend.HasSnapshotAsync("sha256:abc", cancellationToken)).ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains(DockerHost.Describe(engine.Endpoint), StringComparison.Ordinal);
        await Assert.That(ex.StatusCode).IsNull();
    }
}
