using Harmont.Aot.Events;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Ir.HarmontPyDocuments;

namespace Harmont.Aot.Tests.Ir;

/// <summary>
/// <c>run --ir</c> gives a document harmont-py rendered the meaning harmont-py gives it: on_change paths
/// (a directory walked recursively, a file), keys the runner derives itself from today's files, clock and
/// repository, lineage, forks, waits, env and labels; through the real command line, on the host backend.
/// </summary>
[NotInParallel(nameof(HarmontPyFidelityTests))]
public sealed class HarmontPyFidelityTests : IDisposable
{
    private static readonly string[] CiSteps = ["deps", "build", "unit-tests", "lint", "package"];

    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Second_run_of_a_harmont_py_document_hits_every_cached_step()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);

        var first = await RunIr(path);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.Executed.Order(StringComparer.Ordinal))
            .IsEquivalentTo(CiSteps.Order(StringComparer.Ordinal), CollectionOrdering.Matching);
        await Assert.That(first.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["mode release"], CollectionOrdering.Matching);
        await Assert.That(first.LogsOf("unit-tests"))
            .IsEquivalentTo((IEnumerable<string>)["deps", "int main(void) { return 0; }", "int util(void) { return 1; }"], CollectionOrdering.Matching);
        await Assert.That(first.LogsOf("lint")).IsEquivalentTo((IEnumerable<string>)["lint true"], CollectionOrdering.Matching);
        await Assert.That(first.EndOf("lint").At <= first.StartOf("package").At && first.EndOf("unit-tests").At <= first.StartOf("package").At)
            .IsTrue()
            .Because(first.ToString());
        await Assert.That(first.Events.OfType<StepQueued>()).Contains(e => e.Step == "unit-tests");

        var second = await RunIr(path);
        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Executed).IsEmpty();
        foreach (var step in CiSteps)
        {
            await Assert.That(second.Hit(step)).IsTrue().Because(step);
        }
    }

    [Test]
    public async Task Editing_a_file_deep_under_an_on_change_directory_reruns_that_step_and_its_dependents()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        await Assert.That((await RunIr(path)).ExitCode).IsEqualTo(0);

        _harness.WriteSource("app/lib/util.c", "int util(void) { return 2; }\n");
        var edited = await RunIr(path);

        await Assert.That(edited.ExitCode == 0).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Executed.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["build", "lint", "unit-tests"], CollectionOrdering.Matching);
        await Assert.That(edited.LogsOf("unit-tests")).Contains("int util(void) { return 2; }");
        await Assert.That(edited.Hit("deps") && edited.Hit("package")).IsTrue().Because(edited.ToString());
    }

    [Test]
    public async Task Editing_an_on_change_file_reruns_only_the_step_that_composes_it()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        await Assert.That((await RunIr(path)).ExitCode).IsEqualTo(0);

        _harness.WriteSource("VERSION", "1.0.1\n");
        var edited = await RunIr(path);

        await Assert.That(edited.ExitCode == 0).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Executed).IsEquivalentTo((IEnumerable<string>)["package"], CollectionOrdering.Matching);
        await Assert.That(edited.LogsOf("package")).IsEquivalentTo((IEnumerable<string>)["1.0.1"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Ttl_step_reruns_once_the_clock_passes_its_bucket_whatever_key_the_document_carries()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));
        _harness.Clock = clock;
        var path = WriteDocument("nightly.json", Nightly);
        await Assert.That((await RunIr(path)).ExitCode).IsEqualTo(0);

        clock.Advance(TimeSpan.FromHours(13));
        var sameDay = await RunIr(path);
        await Assert.That(sameDay.Executed).IsEmpty();

        clock.Advance(TimeSpan.FromDays(1));
        var nextDay = await RunIr(path);
        await Assert.That(nextDay.ExitCode == 0).IsTrue().Because(nextDay.ToString());
        await Assert.That(nextDay.Executed).IsEquivalentTo((IEnumerable<string>)["nightly"], CollectionOrdering.Matching);
        await Assert.That(nextDay.Hit("deps")).IsTrue();
    }

    [Test]
    public async Task Two_repositories_running_the_same_document_never_share_cache_entries()
    {
        using var other = new RunHarness();
        other.Env["HARMONT_CACHE_DIR"] = _harness.Cache;
        var path = WriteDocument("nightly.json", Nightly);
        await Assert.That((await RunIr(path)).ExitCode).IsEqualTo(0);

        var elsewhere = await other.RunAsync([], ["run", "--ir", path, "--runner", "host"]);

        await Assert.That(elsewhere.ExitCode == 0).IsTrue().Because(elsewhere.ToString());
        await Assert.That(elsewhere.Executed).IsEquivalentTo((IEnumerable<string>)["deps", "nightly"], CollectionOrdering.Matching);
        await Assert.That((await RunIr(path)).Executed).IsEmpty();
    }

    [Test]
    public async Task A_cwd_field_runs_the_command_in_that_directory_of_the_workspace()
    {
        _harness.WriteSource("sub/dir/marker", "here\n");
        var path = WriteDocument("cwd.json", Document(Top(null, null), Command("where", "pwd && cat marker", "\"cwd\": \"sub/dir\"")));

        var run = await RunIr(path);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("where")[0]).EndsWith("/sub/dir", StringComparison.Ordinal);
        await Assert.That(run.LogsOf("where")[1]).IsEqualTo("here");
    }

    [Test]
    [Arguments("\"env\": {\"A=B\": \"c\"}", "steps[0].env has \"A=B\", which is not an environment variable name")]
    [Arguments("\"env\": {\"1ST\": \"c\"}", "steps[0].env has \"1ST\", which is not an environment variable name")]
    [Arguments("\"cache\": {\"policy\": \"forever\", \"env_keys\": [\"NODE VERSION\"]}", "steps[0].cache.env_keys[0] is \"NODE VERSION\", which is not an environment variable name")]
    [Arguments("\"artifact_paths\": [\"out/*\"]", "steps[0].artifact_paths is not a field of a command step that this runner can honour")]
    [Arguments("\"cache\": {\"policy\": \"forever\", \"paths\": [\"app\"]}", "steps[0].cache.paths is not a field of a \"forever\" cache policy that this runner can honour")]
    [Arguments("\"runner_args\": {\"region\": \"us\"}", "steps[0].runner_args is set, but the docker and host runners take no arguments")]
    [Arguments("\"cwd\": \"../outside\"", "steps[0].cwd \"../outside\" leaves the workspace with '..'")]
    [Arguments("\"timeout_seconds\": 99999999999", "steps[0].timeout_seconds is 99999999999, more than the 4294967 this runner can count")]
    [Arguments("\"cache\": {\"policy\": \"on_change\", \"paths\": [\"app\", \"nope/missing.txt\"]}", "steps[0].cache.paths[1] is \"nope/missing.txt\" (step 'step'), which names no file or directory under")]
    [Arguments("\"cache\": {\"policy\": \"on_change\", \"paths\": [\"../secrets\"]}", "steps[0].cache.paths[0] is \"../secrets\", which leaves the repository with '..'")]
    public async Task A_field_the_runner_cannot_honour_exits_2_with_one_line_naming_it(string field, string expected)
    {
        WriteCiSources(_harness);
        var path = WriteDocument("bad.json", Document(Top(null, null), Command("step", "echo ran", field)));

        var run = await RunIr(path);

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).StartsWith("harmont: error: bad.json: ", StringComparison.Ordinal);
        await Assert.That(line).Contains(expected, StringComparison.Ordinal);
        await Assert.That(run.Executed).IsEmpty();
    }

    [Test]
    public async Task Renaming_the_document_keeps_its_history_because_its_name_is_not_the_file_name()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        await Assert.That((await RunIr(path)).ExitCode).IsEqualTo(0);
        await Assert.That((await RunIr(path, "--pipeline", "py-ci")).ExitCode).IsEqualTo(0);

        var renamed = Path.Combine(_harness.Root, "pipeline.ir.json");
        File.Move(path, renamed);
        _harness.WriteSource("app/main.c", "int main(void) { return 3; }\n");
        var unnamed = await _harness.RunAsync([], ["explain", "--ir", renamed]);
        var named = await _harness.RunAsync([], ["explain", "--ir", renamed, "--pipeline", "py-ci"]);
        var fresh = await _harness.RunAsync([], ["explain", "--ir", renamed, "--pipeline", "never-ran"]);

        await Assert.That(unnamed.ExitCode == 0).IsTrue().Because(unnamed.ToString());
        await Assert.That(unnamed.Output).Contains("cache: compared with run ", StringComparison.Ordinal);
        await Assert.That(unnamed.Output).Matches(@"deps +hit");
        await Assert.That(unnamed.Output).Matches(@"build +miss: file app/main\.c changed");
        await Assert.That(named.Output).Matches(@"build +miss: file app/main\.c changed");
        await Assert.That(fresh.Output).Contains("no earlier run of this pipeline is recorded", StringComparison.Ordinal);
    }

    [Test]
    public async Task The_pipeline_argument_names_an_ir_document_too_but_not_differently_from_the_option()
    {
        var path = WriteDocument("nightly.json", Nightly);
        await Assert.That((await _harness.RunAsync([], ["run", "py-nightly", "--ir", path, "--runner", "host"])).ExitCode).IsEqualTo(0);

        var same = await _harness.RunAsync([], ["explain", "--ir", path, "--pipeline", "py-nightly"]);
        var twice = await RunIr(path, "--pipeline", "other");
        var twiceDifferently = await _harness.RunAsync([], ["run", "py-nightly", "--ir", path, "--pipeline", "other", "--runner", "host"]);

        await Assert.That(same.Output).Matches(@"nightly +hit");
        await Assert.That(twice.Executed).IsEquivalentTo((IEnumerable<string>)["deps", "nightly"], CollectionOrdering.Matching);
        await Assert.That(twiceDifferently.ExitCode).IsEqualTo(2);
        await Assert.That(twiceDifferently.Error.Trim())
            .IsEqualTo("harmont: error: the pipeline is named twice, 'py-nightly' and --pipeline 'other'; name it once.");
    }

    private string WriteDocument(string name, string json)
    {
        var path = Path.Combine(_harness.Root, name);
        File.WriteAllText(path, json);
        return path;
    }

    private Task<RunOutcome> RunIr(string path, params string[] extra) =>
        _harness.RunAsync([], ["run", "--ir", path, "--runner", "host", .. extra]);
}
