using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// An entry whose source manifest is damaged (truncated, overwritten, tampered with) never makes a child
/// see a wrong workspace, and never fails run after run: the entry is dropped and its step executes.
/// </summary>
[NotInParallel(nameof(DamagedManifestTests))]
public sealed class DamagedManifestTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static PipelineDefinition Chain() => Pipeline(
        "damaged",
        Runner.Host,
        Cached("gen", "echo generated > gen.txt", null, OnChange("gen.txt")),
        Step("show", "cat gen.txt", "gen"));

    [Test]
    [Arguments("truncated")]
    [Arguments("garbage")]
    [Arguments("empty")]
    public async Task A_manifest_that_is_cut_short_or_not_a_manifest_drops_the_entry_and_the_step_executes(string damage)
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var first = await _harness.RunAsync(Chain());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        var sources = await SourcesFileOfTheOnlyEntry();
        var bytes = File.ReadAllBytes(sources);
        File.WriteAllBytes(sources, damage switch
        {
            "truncated" => bytes[..(bytes.Length - 7)],
            "garbage" => "not a manifest\0"u8.ToArray(),
            _ => [],
        });

        var second = await _harness.RunAsync(Chain());

        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("gen")).IsFalse().Because(second.ToString());
        await Assert.That(second.Output + second.Error).Contains("source manifest is damaged", StringComparison.Ordinal);
        await Assert.That(second.LogsOf("show")).IsEquivalentTo((IEnumerable<string>)["generated"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_manifest_damaged_inside_fails_the_child_once_with_the_fix_and_the_next_run_executes_the_step()
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var first = await _harness.RunAsync(Chain());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        var sources = await SourcesFileOfTheOnlyEntry();
        // Whole in shape (header, a trailing NUL), wrong inside: a mode that is not octal.
        File.WriteAllBytes(sources, [.. "harmont-sources 2\n"u8, .. "9 - gen.txt\0"u8]);

        var second = await _harness.RunAsync(Chain());
        var third = await _harness.RunAsync(Chain());

        await Assert.That(second.ExitCode).IsEqualTo(1);
        await Assert.That(second.Hit("gen")).IsTrue().Because(second.ToString());
        var failure = await Assert.That(second.Events.OfType<Events.StepFailure>()).HasSingleItem();
        await Assert.That(failure.Step).IsEqualTo("show");
        await Assert.That(failure.Message).Contains("is damaged", StringComparison.Ordinal);
        await Assert.That(failure.Message).Contains("run again", StringComparison.Ordinal);
        await Assert.That(third.ExitCode == 0).IsTrue().Because(third.ToString());
        await Assert.That(third.Hit("gen")).IsFalse().Because(third.ToString());
        await Assert.That(third.LogsOf("show")).IsEquivalentTo((IEnumerable<string>)["generated"], CollectionOrdering.Matching);
    }

    private async Task<string> SourcesFileOfTheOnlyEntry()
    {
        var entry = await Assert.That(Directory.GetDirectories(Path.Combine(_harness.Cache, "entries"))).HasSingleItem();
        return Path.Combine(entry, "sources");
    }
}
