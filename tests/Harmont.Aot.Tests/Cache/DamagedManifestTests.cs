using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// An entry whose source manifest is damaged (truncated, overwritten, tampered with) never makes a child
/// see a wrong workspace, and never fails run after run: the entry is dropped and its step executes.
/// </summary>
public sealed class DamagedManifestTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static PipelineDefinition Chain() => Pipeline(
        "damaged",
        Runner.Host,
        Cached("gen", "echo generated > gen.txt", null, OnChange("gen.txt")),
        Step("show", "cat gen.txt", "gen"));

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public async Task A_manifest_that_is_cut_short_or_not_a_manifest_drops_the_entry_and_the_step_executes(string damage)
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var first = await _harness.RunAsync(Chain());
        Assert.True(first.ExitCode == 0, first.ToString());
        var sources = SourcesFileOfTheOnlyEntry();
        var bytes = File.ReadAllBytes(sources);
        File.WriteAllBytes(sources, damage switch
        {
            "truncated" => bytes[..(bytes.Length - 7)],
            "garbage" => "not a manifest\0"u8.ToArray(),
            _ => [],
        });

        var second = await _harness.RunAsync(Chain());

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.False(second.Hit("gen"), second.ToString());
        Assert.Contains("source manifest is damaged", second.Output + second.Error, StringComparison.Ordinal);
        Assert.Equal(["generated"], second.LogsOf("show"));
    }

    [Fact]
    public async Task A_manifest_damaged_inside_fails_the_child_once_with_the_fix_and_the_next_run_executes_the_step()
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var first = await _harness.RunAsync(Chain());
        Assert.True(first.ExitCode == 0, first.ToString());
        var sources = SourcesFileOfTheOnlyEntry();
        // Whole in shape (header, a trailing NUL), wrong inside: a mode that is not octal.
        File.WriteAllBytes(sources, [.. "harmont-sources 2\n"u8, .. "9 - gen.txt\0"u8]);

        var second = await _harness.RunAsync(Chain());
        var third = await _harness.RunAsync(Chain());

        Assert.Equal(1, second.ExitCode);
        Assert.True(second.Hit("gen"), second.ToString());
        var failure = Assert.Single(second.Events.OfType<Events.StepFailure>());
        Assert.Equal("show", failure.Step);
        Assert.Contains("is damaged", failure.Message, StringComparison.Ordinal);
        Assert.Contains("run again", failure.Message, StringComparison.Ordinal);
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.False(third.Hit("gen"), third.ToString());
        Assert.Equal(["generated"], third.LogsOf("show"));
    }

    private string SourcesFileOfTheOnlyEntry()
    {
        var entry = Assert.Single(Directory.GetDirectories(Path.Combine(_harness.Cache, "entries")));
        return Path.Combine(entry, "sources");
    }
}
