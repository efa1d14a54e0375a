using Harmont.Aot.Events;
using static Harmont.Aot.Tests.Ir.HarmontPyDocuments;

namespace Harmont.Aot.Tests.Ir;

/// <summary>
/// <c>run --ir</c> gives a document harmont-py rendered the meaning harmont-py gives it: on_change paths
/// (a directory walked recursively, a file), keys the runner derives itself from today's files, clock and
/// repository, lineage, forks, waits, env and labels; through the real command line, on the host backend.
/// </summary>
public sealed class HarmontPyFidelityTests : IDisposable
{
    private static readonly string[] CiSteps = ["deps", "build", "unit-tests", "lint", "package"];

    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Second_run_of_a_harmont_py_document_hits_every_cached_step()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);

        var first = await RunIr(path);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(CiSteps.Order(StringComparer.Ordinal), first.Executed.Order(StringComparer.Ordinal));
        Assert.Equal(["mode release"], first.LogsOf("build"));
        Assert.Equal(["deps", "int main(void) { return 0; }", "int util(void) { return 1; }"], first.LogsOf("unit-tests"));
        Assert.Equal(["lint true"], first.LogsOf("lint"));
        Assert.True(first.EndOf("lint").At <= first.StartOf("package").At && first.EndOf("unit-tests").At <= first.StartOf("package").At, first.ToString());
        Assert.Contains(first.Events.OfType<StepQueued>(), e => e.Step == "unit-tests");

        var second = await RunIr(path);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(second.Executed);
        Assert.All(CiSteps, step => Assert.True(second.Hit(step), step));
    }

    [Fact]
    public async Task Editing_a_file_deep_under_an_on_change_directory_reruns_that_step_and_its_dependents()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        Assert.Equal(0, (await RunIr(path)).ExitCode);

        _harness.WriteSource("app/lib/util.c", "int util(void) { return 2; }\n");
        var edited = await RunIr(path);

        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal(["build", "lint", "unit-tests"], edited.Executed.Order(StringComparer.Ordinal));
        Assert.Contains("int util(void) { return 2; }", edited.LogsOf("unit-tests"));
        Assert.True(edited.Hit("deps") && edited.Hit("package"), edited.ToString());
    }

    [Fact]
    public async Task Editing_an_on_change_file_reruns_only_the_step_that_composes_it()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        Assert.Equal(0, (await RunIr(path)).ExitCode);

        _harness.WriteSource("VERSION", "1.0.1\n");
        var edited = await RunIr(path);

        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal(["package"], edited.Executed);
        Assert.Equal(["1.0.1"], edited.LogsOf("package"));
    }

    [Fact]
    public async Task Ttl_step_reruns_once_the_clock_passes_its_bucket_whatever_key_the_document_carries()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));
        _harness.Clock = clock;
        var path = WriteDocument("nightly.json", Nightly);
        Assert.Equal(0, (await RunIr(path)).ExitCode);

        clock.Advance(TimeSpan.FromHours(13));
        var sameDay = await RunIr(path);
        Assert.Empty(sameDay.Executed);

        clock.Advance(TimeSpan.FromDays(1));
        var nextDay = await RunIr(path);
        Assert.True(nextDay.ExitCode == 0, nextDay.ToString());
        Assert.Equal(["nightly"], nextDay.Executed);
        Assert.True(nextDay.Hit("deps"));
    }

    [Fact]
    public async Task Two_repositories_running_the_same_document_never_share_cache_entries()
    {
        using var other = new RunHarness();
        other.Env["HARMONT_CACHE_DIR"] = _harness.Cache;
        var path = WriteDocument("nightly.json", Nightly);
        Assert.Equal(0, (await RunIr(path)).ExitCode);

        var elsewhere = await other.RunAsync([], ["run", "--ir", path, "--runner", "host"]);

        Assert.True(elsewhere.ExitCode == 0, elsewhere.ToString());
        Assert.Equal(["deps", "nightly"], elsewhere.Executed);
        Assert.Empty((await RunIr(path)).Executed);
    }

    [Fact]
    public async Task A_cwd_field_runs_the_command_in_that_directory_of_the_workspace()
    {
        _harness.WriteSource("sub/dir/marker", "here\n");
        var path = WriteDocument("cwd.json", Document(Top(null, null), Command("where", "pwd && cat marker", "\"cwd\": \"sub/dir\"")));

        var run = await RunIr(path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("/sub/dir", run.LogsOf("where")[0], StringComparison.Ordinal);
        Assert.Equal("here", run.LogsOf("where")[1]);
    }

    [Theory]
    [InlineData("\"env\": {\"A=B\": \"c\"}", "steps[0].env has \"A=B\", which is not an environment variable name")]
    [InlineData("\"env\": {\"1ST\": \"c\"}", "steps[0].env has \"1ST\", which is not an environment variable name")]
    [InlineData("\"cache\": {\"policy\": \"forever\", \"env_keys\": [\"NODE VERSION\"]}", "steps[0].cache.env_keys[0] is \"NODE VERSION\", which is not an environment variable name")]
    [InlineData("\"artifact_paths\": [\"out/*\"]", "steps[0].artifact_paths is not a field of a command step that this runner can honour")]
    [InlineData("\"cache\": {\"policy\": \"forever\", \"paths\": [\"app\"]}", "steps[0].cache.paths is not a field of a \"forever\" cache policy that this runner can honour")]
    [InlineData("\"runner_args\": {\"region\": \"us\"}", "steps[0].runner_args is set, but the docker and host runners take no arguments")]
    [InlineData("\"cwd\": \"../outside\"", "steps[0].cwd \"../outside\" leaves the workspace with '..'")]
    [InlineData("\"timeout_seconds\": 99999999999", "steps[0].timeout_seconds is 99999999999, more than the 4294967 this runner can count")]
    [InlineData("\"cache\": {\"policy\": \"on_change\", \"paths\": [\"app\", \"nope/missing.txt\"]}", "steps[0].cache.paths[1] is \"nope/missing.txt\" (step 'step'), which names no file or directory under")]
    [InlineData("\"cache\": {\"policy\": \"on_change\", \"paths\": [\"../secrets\"]}", "steps[0].cache.paths[0] is \"../secrets\", which leaves the repository with '..'")]
    public async Task A_field_the_runner_cannot_honour_exits_2_with_one_line_naming_it(string field, string expected)
    {
        WriteCiSources(_harness);
        var path = WriteDocument("bad.json", Document(Top(null, null), Command("step", "echo ran", field)));

        var run = await RunIr(path);

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("harmont: error: bad.json: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Empty(run.Executed);
    }

    [Fact]
    public async Task Renaming_the_document_keeps_its_history_because_its_name_is_not_the_file_name()
    {
        WriteCiSources(_harness);
        var path = WriteDocument("ci.json", Ci);
        Assert.Equal(0, (await RunIr(path)).ExitCode);
        Assert.Equal(0, (await RunIr(path, "--pipeline", "py-ci")).ExitCode);

        var renamed = Path.Combine(_harness.Root, "pipeline.ir.json");
        File.Move(path, renamed);
        _harness.WriteSource("app/main.c", "int main(void) { return 3; }\n");
        var unnamed = await _harness.RunAsync([], ["explain", "--ir", renamed]);
        var named = await _harness.RunAsync([], ["explain", "--ir", renamed, "--pipeline", "py-ci"]);
        var fresh = await _harness.RunAsync([], ["explain", "--ir", renamed, "--pipeline", "never-ran"]);

        Assert.True(unnamed.ExitCode == 0, unnamed.ToString());
        Assert.Contains("cache: compared with run ", unnamed.Output, StringComparison.Ordinal);
        Assert.Matches(@"deps +hit", unnamed.Output);
        Assert.Matches(@"build +miss: file app/main\.c changed", unnamed.Output);
        Assert.Matches(@"build +miss: file app/main\.c changed", named.Output);
        Assert.Contains("no earlier run of this pipeline is recorded", fresh.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pipeline_argument_names_an_ir_document_too_but_not_differently_from_the_option()
    {
        var path = WriteDocument("nightly.json", Nightly);
        Assert.Equal(0, (await _harness.RunAsync([], ["run", "py-nightly", "--ir", path, "--runner", "host"])).ExitCode);

        var same = await _harness.RunAsync([], ["explain", "--ir", path, "--pipeline", "py-nightly"]);
        var twice = await RunIr(path, "--pipeline", "other");
        var twiceDifferently = await _harness.RunAsync([], ["run", "py-nightly", "--ir", path, "--pipeline", "other", "--runner", "host"]);

        Assert.Matches(@"nightly +hit", same.Output);
        Assert.Equal(["deps", "nightly"], twice.Executed);
        Assert.Equal(2, twiceDifferently.ExitCode);
        Assert.Equal("harmont: error: the pipeline is named twice, 'py-nightly' and --pipeline 'other'; name it once.", twiceDifferently.Error.Trim());
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
