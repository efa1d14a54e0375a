using System.Text;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

// No registry answers here, so a successful pull is driven by a canned engine; the failing one is real.
[NotInParallel(nameof(DockerPullTests))]
public sealed class DockerPullTests : IDisposable
{
    private const string Image = "alpine:3.20";

    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-pull-").FullName;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    public async Task Missing_image_is_pulled_with_progress_before_the_container_is_created(CancellationToken cancellationToken)
    {
        var pulled = false;
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            "GET /v1.41/images/alpine:3.20/json" when !pulled => (404, """{"message":"No such image: alpine:3.20"}"""),
            "GET /v1.41/images/alpine:3.20/json" => (200, """{"Id":"sha256:abc","RootFS":{"Layers":["sha256:1"]}}"""),
            "POST /v1.41/images/create?fromImage=alpine&tag=3.20" => Pulled(),
            _ => (500, """{"message":"the fake engine stops here"}"""),
        });
        await using var backend = new DockerBackend(await engine.ConnectAsync());
        var progress = new List<string>();

        var ex = (await Assert.That(async () => await backend.RunAsync(Step(), progress.Add, cancellationToken)).ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains("the fake engine stops here", StringComparison.Ordinal);
        var pull = engine.Requests.ToList().IndexOf("POST /v1.41/images/create?fromImage=alpine&tag=3.20");
        var create = engine.Requests.ToList().FindIndex(r => r.StartsWith("POST /v1.41/containers/create", StringComparison.Ordinal));
        await Assert.That(pull).IsBetween(0, create - 1);
        await Assert.That(progress).IsEquivalentTo((IEnumerable<string>)[
                "pulling alpine:3.20: not present locally",
                "pulling alpine:3.20: 3.20 Pulling from library/alpine",
                "pulling alpine:3.20: abc123 Pulling fs layer",
                "pulling alpine:3.20: abc123 Downloading 1.0 KiB/3.0 MiB",
                "pulling alpine:3.20: abc123 Download complete",
                "pulling alpine:3.20: abc123 Pull complete",
                "pulling alpine:3.20: Status: Downloaded newer image for alpine:3.20",
            ], CollectionOrdering.Matching);

        (int, string) Pulled()
        {
            pulled = true;
            var body = new StringBuilder();
            body.AppendLine("""{"status":"Pulling from library/alpine","id":"3.20"}""");
            body.AppendLine("""{"status":"Pulling fs layer","id":"abc123"}""");

            // A burst of bar updates: only the first is passed on within the second.
            for (var i = 1; i <= 50; i++)
            {
                body.AppendLine(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $$"""{"status":"Downloading","progressDetail":{"current":{{i * 1024}},"total":3145728},"progress":"[>      ] {{i}}kB/3MB","id":"abc123"}""");
            }

            body.AppendLine("""{"status":"Download complete","id":"abc123"}""");
            body.AppendLine("""{"status":"Pull complete","id":"abc123"}""");
            body.AppendLine("""{"status":"Status: Downloaded newer image for alpine:3.20"}""");
            return (200, body.ToString());
        }
    }

    [Test]
    public async Task Progress_without_a_listener_goes_to_the_step_log_as_harmont_lines(CancellationToken cancellationToken)
    {
        await using var engine = new FakeEngine(request => request switch
        {
            "GET /version" => (200, """{"ApiVersion":"1.41"}"""),
            "GET /v1.41/images/alpine:3.20/json" => (404, """{"message":"No such image: alpine:3.20"}"""),
            _ => (200, """
                {"status":"Pulling from library/alpine","id":"3.20"}
                {"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}
                """),
        });
        await using var backend = new DockerBackend(await engine.ConnectAsync());
        var log = new List<(LogStream, string)>();

        var ex = (await Assert.That(async () => await backend.RunAsync(Step() with { Log = (s, l) => log.Add((s, l)) }, cancellationToken))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).IsEqualTo($"image '{Image}' is not present and could not be pulled: unauthorized: authentication required. " +
            "Build or import it locally (docker import / docker build) or set Image= to one that exists.");
        await Assert.That(log).IsEquivalentTo((IEnumerable<(LogStream, string)>)[
                (LogStream.Stderr, "harmont: pulling alpine:3.20: not present locally"),
                (LogStream.Stderr, "harmont: pulling alpine:3.20: 3.20 Pulling from library/alpine"),
            ], CollectionOrdering.Matching);
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Failed_real_pull_names_the_image_and_the_engines_reason(CancellationToken cancellationToken)
    {
        using var client = await DockerTestEngine.ConnectAsync();
        await using var backend = new DockerBackend(client, ownsEngine: false);
        const string Missing = "harmont-test/not-anywhere:0";
        var progress = new List<string>();

        var ex = (await Assert.That(async () => await backend.RunAsync(Step() with { BaseImage = Missing }, progress.Add, cancellationToken))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).StartsWith($"image '{Missing}' is not present and could not be pulled: ", StringComparison.Ordinal);
        await Assert.That(ex.EngineMessage).IsNotEmpty();
        await Assert.That(ex.Message).Contains(ex.EngineMessage, StringComparison.Ordinal);
        await Assert.That(progress[0]).IsEqualTo($"pulling {Missing}: not present locally");
        await Assert.That(await client.ImageExistsAsync(Missing, cancellationToken)).IsFalse();
    }

    private StepInvocation Step() =>
        new("test-pull", "pull", "true", _workspace, Image, [], KeepSnapshot: false, (_, _) => { });
}
