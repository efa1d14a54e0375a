namespace Harmont.Aot.Tests.Cli;

/// <summary><c>list</c> shows each step's cache policies and timeouts, and the pipeline's build timeout.</summary>
[NotInParallel(nameof(ListCommandTests))]
public sealed class ListCommandTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task List_shows_cache_policies_composed_and_timeouts()
    {
        var run = await _harness.RunAsync([Everything.Definition], ["list"]);

        await Assert.That(run.ExitCode).IsEqualTo(0);
        await Assert.That(run.Output).IsEqualTo("""
            everything (runner auto, image alpine:3.20, timeout 1h)
              deps         cache forever(ALPINE_MIRROR)
              build        from deps; cache on-change(src/**, Makefile) + ttl(7d); timeout 15m
              test         from build
              lint         from build
              integration  runner docker; cache ttl(12h, NODE_VERSION); timeout 1m30s
              report       after deps, build, test, lint, integration; runner host

            """);
    }
}
