using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// An output holding links that name things outside it (a venv's interpreter, a tracked link to /etc, a link to
/// nothing) is shared like any other: through 'cache export'/'cache import' and through the shared cache, a link
/// travels as a link, and the machine that takes it in gets the same hit a cold run would make.
/// </summary>
[NotInParallel(nameof(LinkedOutputSharingTests))]
public sealed class LinkedOutputSharingTests : IAsyncDisposable
{
    private readonly string _repository = $"team/links-{Guid.NewGuid():N}";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    // A list, so the test adds to it rather than assigning a field.
    private readonly List<RegistryServer> _registries = [];

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        foreach (var registry in _registries)
        {
            await registry.DisposeAsync();
        }
    }

    // 'venv' leaves links out of its workspace; 'other' is an unrelated entry a rejected bundle would lose too.
    private static PipelineDefinition Linked() => new()
    {
        Slug = "linked",
        Runner = Runner.Host,
        Project = "linked-output-sharing",
        Steps =
        [
            Cached(
                "venv",
                "mkdir -p venv/bin && ln -s /bin/sh venv/bin/python && ln -s /etc etc-link && ln -s /nowhere/at/all dangling"
                + " && ln -s ../../../.. up && echo made > made.txt",
                null,
                Forever()),
            Cached("other", "echo other > other.txt", null, Forever()),
            Step("use", "readlink venv/bin/python etc-link dangling up && cat made.txt && venv/bin/python -c 'echo runs'", "venv"),
        ],
    };

    [Test]
    public async Task Absolute_and_dangling_links_travel_through_export_and_import_and_the_hit_equals_a_cold_run()
    {
        var cold = await _a.RunAsync(Linked());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        var bundle = Path.Combine(_a.Root, "cache.tar.zst");

        var export = await _a.RunAsync([], ["cache", "export", bundle]);
        var import = await _b.RunAsync([], ["cache", "import", bundle]);
        var warm = await _b.RunAsync(Linked());

        await Assert.That(export.ExitCode == 0).IsTrue().Because(export.ToString());
        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(import.Output).Contains("imported 2 entries", StringComparison.Ordinal);
        await AssertHitEqualsColdAsync(warm, cold);
    }

    [Test]
    public async Task Absolute_and_dangling_links_travel_through_the_shared_cache_and_the_hit_equals_a_cold_run()
    {
        var registry = await RegistryServer.SharedAsync();
        _registries.Add(registry);
        foreach (var machine in new[] { _a, _b })
        {
            machine.Env["HARMONT_CACHE_REMOTE"] = registry.Remote(_repository);
        }

        var cold = await _a.RunAsync(Linked());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(cold.Error).Contains("2 pushed", StringComparison.Ordinal);

        var warm = await _b.RunAsync(Linked());

        await AssertHitEqualsColdAsync(warm, cold);
        await Assert.That(warm.Error).DoesNotContain("warning", StringComparison.Ordinal);
    }

    private static async Task AssertHitEqualsColdAsync(RunOutcome warm, RunOutcome cold)
    {
        await Assert.That(warm.ExitCode == 0).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Hit("venv") && warm.Hit("other")).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Executed).IsEquivalentTo((IEnumerable<string>)["use"], CollectionOrdering.Matching);
        await Assert.That(cold.LogsOf("use"))
            .IsEquivalentTo((IEnumerable<string>)["/bin/sh", "/etc", "/nowhere/at/all", "../../../..", "made", "runs"], CollectionOrdering.Matching);
        await Assert.That(warm.LogsOf("use")).IsEquivalentTo(cold.LogsOf("use"), CollectionOrdering.Matching);
    }
}
