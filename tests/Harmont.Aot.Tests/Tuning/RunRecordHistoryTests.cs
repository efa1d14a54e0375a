using System.Text.Json;
using Harmont.Aot.Cache;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Tuning;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>
/// Real host runs write records with their phases measured, their entries' sizes and output digests, and a
/// miss's reason; the history stays at its bound; a bad bound stops the run before any step; an old record still reads.
/// </summary>
[NotInParallel(nameof(RunRecordHistoryTests))]
public sealed class RunRecordHistoryTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static PipelineDefinition Host() => Pipeline(
        "records",
        Runner.Host,
        Cached("deps", "echo deps > deps.txt", null, Forever()),
        Cached("build", "cat src/a.txt deps.txt > out.txt", "deps", OnChange("src/**")),
        Step("test", "cat out.txt", "build"));

    internal static async Task<List<RunRecord>> HistoryAsync(RunHarness harness, string pipeline)
    {
        var project = await ProjectIdentity.ResolveAsync(null, harness.Source, CancellationToken.None);
        return RunHistory.Load(RunRecord.PathFor(harness.Cache, project, pipeline), int.MaxValue);
    }

    [Test]
    public async Task Executed_cached_steps_record_their_phases_entry_and_output_digest()
    {
        _harness.WriteSource("src/a.txt", "a1");
        var first = await _harness.RunAsync(Host());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        var run = (await HistoryAsync(_harness, "records")).Single();
        var deps = run.Steps["deps"].Facts!;
        var test = run.Steps["test"].Facts!;
        await Assert.That(run.Format).IsEqualTo(2);
        await Assert.That(deps.Status).IsEqualTo("passed");
        // Not the lookup: a miss in an empty store takes microseconds, which round to 0 ms.
        await Assert.That(deps.PrepareMs > 0 && deps.StartMs > 0 && deps.CommandMs > 0 && deps.PersistMs > 0).IsTrue()
            .Because(JsonSerializer.Serialize(deps, TuningJsonContext.Default.RunRecord.Options));
        await Assert.That(deps.EntryBytes > 0).IsTrue();
        await Assert.That(deps.Digest).StartsWith("tree:");
        await Assert.That(run.Steps["build"].Facts!.Needs).IsEquivalentTo((IEnumerable<string>)["deps"]);
        await Assert.That(test.CommandMs > 0 && test.Digest is null && test.EntryBytes is null).IsTrue();
        await Assert.That(run.Facts!.Strategy).IsNotNull();
        await Assert.That(run.Facts.SameFileSystem == true).IsTrue();
        await Assert.That(run.Facts.WallMs > 0 && run.Facts.PlanMs > 0).IsTrue();
        await Assert.That(run.Steps["build"].Facts!.HashMs > 0).IsTrue();

        var second = await _harness.RunAsync(Host());
        await Assert.That(second.ExitCode).IsEqualTo(0);
        var hit = (await HistoryAsync(_harness, "records"))[^1].Steps["deps"];
        await Assert.That(hit.Outcome).IsEqualTo("hit");
        await Assert.That(hit.Facts!.LookupMs > 0 && hit.Facts.CommandMs == 0 && hit.Facts.MissReasons is null).IsTrue();

        _harness.WriteSource("src/a.txt", "a2");
        await Assert.That((await _harness.RunAsync(Host())).ExitCode).IsEqualTo(0);
        var third = (await HistoryAsync(_harness, "records"))[^1];
        await Assert.That(third.Steps["build"].Facts!.MissReasons!).Contains("file src/a.txt changed");
        await Assert.That(third.Facts!.ChangedFiles).IsEquivalentTo((IEnumerable<string>)["src/a.txt"]);
        await Assert.That(third.Steps["build"].Facts!.Digest).IsNotEqualTo(run.Steps["build"].Facts!.Digest);
    }

    [Test]
    public async Task The_history_keeps_only_the_newest_runs_under_HARMONT_RUNS_KEEP()
    {
        _harness.WriteSource("src/a.txt", "a");
        _harness.Env["HARMONT_RUNS_KEEP"] = "2";
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var outcome = await _harness.RunAsync(Host());
            await Assert.That(outcome.ExitCode).IsEqualTo(0);
            ids.Add(outcome.Events.OfType<Events.BuildStarted>().Single().RunId);
        }

        var kept = await HistoryAsync(_harness, "records");
        await Assert.That(kept.Select(r => r.RunId)).IsEquivalentTo(ids.Skip(1), TUnit.Assertions.Enums.CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_bad_HARMONT_RUNS_KEEP_stops_the_run_with_exit_2_before_any_step()
    {
        _harness.WriteSource("src/a.txt", "a");
        _harness.Env["HARMONT_RUNS_KEEP"] = "lots";

        var outcome = await _harness.RunAsync(Host());

        await Assert.That(outcome.ExitCode).IsEqualTo(2);
        await Assert.That(outcome.Executed).IsEmpty();
        await Assert.That(outcome.Error.Trim()).IsEqualTo(
            "harmont: error: HARMONT_RUNS_KEEP 'lots' is not a number of runs to keep; write a whole number from 0 to 10000, like 50 (0 keeps none).");
    }

    [Test]
    public async Task A_format_1_record_is_still_what_explain_compares_with()
    {
        _harness.WriteSource("src/a.txt", "a");
        var project = await ProjectIdentity.ResolveAsync(null, _harness.Source, CancellationToken.None);
        var path = RunRecord.PathFor(_harness.Cache, project, "records");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, """
            {"format":1,"run":"old-run","at":"2026-01-01T00:00:00+00:00","pipeline":"records",
             "steps":{"deps":{"key":"0000000000000000000000000000000000000000000000000000000000000000","outcome":"executed","components":{"command":"x"},"globs":[]}}}
            """);

        var outcome = await _harness.RunAsync([Host()], ["explain", "deps"]);

        await Assert.That(outcome.ExitCode).IsEqualTo(0);
        await Assert.That(outcome.Output).Contains("compared with run old-run");
        await Assert.That(outcome.Output).Contains("the command changed");
    }
}
