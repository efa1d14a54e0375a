using System.Text.Json;
using System.Text.RegularExpressions;
using Harmont.Aot.Model;
using Harmont.Aot.Tuning;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>
/// tune end to end on the host backend: a build keyed on every file misses on a docs-only edit that leaves its
/// output byte-identical; tune names the docs and proposes the narrower globs; with them, the next docs edit is a hit.
/// </summary>
[NotInParallel(nameof(TuneEndToEndTests))]
public sealed partial class TuneEndToEndTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    // The sleep stands for a real build: without it, caching this step costs more than running it, which tune says first.
    private static PipelineDefinition Docs(params string[] globs) =>
        Pipeline("docs", Runner.Host, Cached("build", "sleep 1 && mkdir -p out && cat Makefile src/a.c > out/app.bin", null, OnChange(globs)));

    private async Task<TuneReport> TuneAsync(PipelineDefinition pipeline)
    {
        var outcome = await _harness.RunAsync([pipeline], ["tune", "--format", "json"]);
        await Assert.That(outcome.ExitCode == 0).IsTrue().Because(outcome.ToString());
        return JsonSerializer.Deserialize(outcome.Output, TuningJsonContext.Default.TuneReport)!;
    }

    [Test]
    public async Task A_docs_only_edit_under_a_broad_onchange_gets_narrowing_advice_and_applying_it_makes_the_next_docs_edit_a_hit()
    {
        _harness.WriteSource("Makefile", "all:\n");
        _harness.WriteSource("src/a.c", "int a;\n");
        _harness.WriteSource("docs/guide.md", "v1\n");
        var broad = Docs("**");
        await Assert.That((await _harness.RunAsync(broad)).ExitCode).IsEqualTo(0);
        _harness.WriteSource("docs/guide.md", "v2\n");
        var missed = await _harness.RunAsync(broad);
        await Assert.That(missed.Executed).Contains("build");

        var advice = (await TuneAsync(broad)).Advice.Single();
        await Assert.That(advice.Kind).IsEqualTo("onchange-too-broad");
        await Assert.That(advice.Change).IsEqualTo("step 'build': [CacheOnChange(\"**\")] -> [CacheOnChange(\"Makefile\", \"src/**\")]");
        await Assert.That(advice.Evidence[0]).Contains("docs/**");
        await Assert.That(advice.Evidence[1]).Contains("docs/guide.md");

        // Applied as written: the globs after the arrow.
        var narrowed = Docs([.. Quoted().Matches(advice.Change[advice.Change.IndexOf("->", StringComparison.Ordinal)..]).Select(m => m.Groups[1].Value)]);
        await Assert.That((await _harness.RunAsync(narrowed)).ExitCode).IsEqualTo(0);
        _harness.WriteSource("docs/guide.md", "v3\n");
        var next = await _harness.RunAsync(narrowed);

        await Assert.That(next.ExitCode).IsEqualTo(0);
        await Assert.That(next.Hit("build")).IsTrue().Because(next.ToString());
        await Assert.That(next.Executed).IsEmpty();
        await Assert.That((await TuneAsync(narrowed)).Advice).IsEmpty();
    }

    [Test]
    public async Task Stats_print_a_row_per_step_and_the_totals_as_text_and_json()
    {
        _harness.WriteSource("Makefile", "all:\n");
        _harness.WriteSource("src/a.c", "int a;\n");
        var pipeline = Docs("Makefile", "src/**");
        await _harness.RunAsync(pipeline);
        await _harness.RunAsync(pipeline);

        var text = await _harness.RunAsync([pipeline], ["stats"]);
        var json = await _harness.RunAsync([pipeline], ["stats", "--last", "1", "--format", "json"]);

        await Assert.That(text.ExitCode == 0).IsTrue().Because(text.ToString());
        await Assert.That(text.Output).StartsWith("pipeline docs: 2 runs\n");
        await Assert.That(text.Output).Contains("critical path (newest run):");
        await Assert.That(text.Output.Split('\n').Any(l => l.StartsWith("build ", StringComparison.Ordinal) && l.Contains("50%", StringComparison.Ordinal))).IsTrue();
        var report = JsonSerializer.Deserialize(json.Output, TuningJsonContext.Default.StatsReport)!;
        await Assert.That(report.Runs).IsEqualTo(1);
        await Assert.That(report.Steps.Single().HitRate).IsEqualTo(1.0);
    }

    [Test]
    public async Task A_bad_last_is_a_usage_error()
    {
        var outcome = await _harness.RunAsync([Docs("**")], ["stats", "--last", "0"]);

        await Assert.That(outcome.ExitCode).IsEqualTo(2);
        await Assert.That(outcome.Error.Trim()).IsEqualTo("harmont: error: --last takes a number of runs, at least 1, like --last 20, not 0.");
    }

    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex Quoted();
}
