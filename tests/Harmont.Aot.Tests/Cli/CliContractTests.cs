using System.Text.Json;

namespace Harmont.Aot.Tests;

/// <summary>
/// The command line users have, pinned on the real native binary: stdout, stderr and exit code as a shell sees them.
/// Runs use host-runner IR documents, so no engine is needed.
/// </summary>
public sealed class CliContractTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-cli-").FullName;

    public CliContractTests()
    {
        Directory.CreateDirectory(Repo);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Repo, "marker.txt"), "marker\n");
        Exec.RunAsync("git", ["init", "-q"], Repo, CancellationToken.None).GetAwaiter().GetResult();
        File.WriteAllText(Doc, """{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "hello", "cmd": "cat marker.txt"}]}""");
    }

    private string Repo => Path.Combine(_root, "repo");

    private string Outside => Path.Combine(_root, "outside");

    private string Doc => Path.Combine(_root, "hello.json");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("--format=json")]
    [InlineData("--format json")]
    [InlineData("--format:json")]
    public async Task Format_json_in_each_form_puts_only_ndjson_events_on_stdout(string form)
    {
        var run = await BinaryAsync(Repo, ["run", "--ir", Doc, .. form.Split(' ')]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var events = Events(run);
        Assert.Equal("build_start", events[0].GetProperty("event").GetString());
        Assert.Equal("build_end", events[^1].GetProperty("event").GetString());
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "step_log" && e.GetProperty("line").GetString() == "marker");
    }

    [Theory]
    [InlineData("-j {0}")]
    [InlineData("-j{0}")]
    [InlineData("-j={0}")]
    [InlineData("--parallelism {0}")]
    [InlineData("--parallelism={0}")]
    [InlineData("-kj{0}")]
    public async Task Parallelism_in_each_form_reaches_the_run(string form)
    {
        var zero = await BinaryAsync(Repo, ["--ir", Doc, .. string.Format(null, form, 0).Split(' ')]);
        var four = await BinaryAsync(Repo, ["--ir", Doc, .. string.Format(null, form, 4).Split(' ')]);

        Assert.True(zero.ExitCode == 2, zero.ToString());
        Assert.Equal(["harmont: error: --parallelism must be at least 1, not 0."], zero.ErrorLines);
        Assert.True(four.ExitCode == 0, four.ToString());
    }

    [Fact]
    public async Task Run_is_the_verb_when_there_are_no_arguments()
    {
        var run = await BinaryAsync(Repo, []);

        // The smoke program defines several pipelines: run's own answer is to ask which.
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Stdout);
        Assert.Contains("name the one to run, e.g. 'run ", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_is_the_verb_for_options_alone_and_a_double_dash_argument_names_the_pipeline()
    {
        var run = await BinaryAsync(Repo, ["--ir", Doc, "--format", "json", "--", "renamed"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("renamed", Events(run)[0].GetProperty("pipeline").GetString());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task Cache_help_lists_the_cache_verbs(string help)
    {
        var run = await BinaryAsync(Repo, ["cache", help]);

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var verb in new[] { "ls", "prune", "clean", "export", "import" })
        {
            Assert.Matches($@"(?m)^  cache {verb}\s+\S", run.Stdout);
        }

        Assert.DoesNotContain("doctor", run.Stdout, StringComparison.Ordinal);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Help_lists_every_verb_and_says_run_is_the_default()
    {
        var run = await BinaryAsync(Repo, ["--help"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var verb in new[] { "run", "list", "render", "graph", "explain", "doctor", "cache ls" })
        {
            Assert.Matches($@"(?m)^  {verb}\s+\S", run.Stdout);
        }

        Assert.Contains("(the default verb)", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cache export", "cache export needs the FILE to write")]
    [InlineData("cache import", "cache import needs the FILE to read")]
    [InlineData("cache", "cache needs a verb")]
    [InlineData("cache frob", "'frob'")]
    [InlineData("--format xml", "--format takes human or json, not 'xml'")]
    [InlineData("--runner=vm", "--runner takes auto, docker or host, not 'vm'")]
    [InlineData("-j abc", "-j 4, not 'abc'")]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("run --ir", "--ir needs a value")]
    [InlineData("list extra", "unexpected argument 'extra'")]
    [InlineData("doctor --bogus", "unexpected argument '--bogus'")]
    [InlineData("cache clean now", "unexpected argument 'now'")]
    [InlineData("explain a b", "unexpected argument 'b'")]
    [InlineData("@missing.rsp", "'missing.rsp'")]
    [InlineData("cache prune --older-than=7x", "--older-than '7x'")]
    public async Task A_missing_or_invalid_argument_is_exit_2_with_one_line_naming_it(string args, string named)
    {
        var run = await BinaryAsync(Repo, args.Split(' '));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("harmont: error: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", 0)]
    [InlineData("exit 3", 1)]
    [InlineData("sleep 30", 124)]
    public async Task Exit_codes_say_how_the_run_ended(string command, int exitCode)
    {
        var doc = Path.Combine(_root, "ends.json");
        await File.WriteAllTextAsync(
            doc, $$"""{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "s", "cmd": "{{command}}", "timeout_seconds": 1}]}""", TestContext.Current.CancellationToken);

        var run = await BinaryAsync(Repo, ["--ir", doc]);

        Assert.True(run.ExitCode == exitCode, run.ToString());
    }

    [Fact]
    public async Task A_step_that_needs_docker_with_no_engine_is_exit_4()
    {
        var doc = Path.Combine(_root, "docker.json");
        await File.WriteAllTextAsync(
            doc, """{"version": "0", "runner": "docker", "steps": [{"type": "command", "key": "s", "image": "busybox", "cmd": "true"}]}""", TestContext.Current.CancellationToken);

        var run = await BinaryAsync(Repo, ["--ir", doc]);

        Assert.True(run.ExitCode == 4, run.ToString());
    }

    [Fact]
    public async Task Ctrl_c_is_ours_to_handle_it_cancels_the_run_with_130()
    {
        var doc = Path.Combine(_root, "slow.json");
        await File.WriteAllTextAsync(
            doc, """{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "s", "cmd": "echo ready && sleep 300"}]}""", TestContext.Current.CancellationToken);
        var published = await PublishedAsync();
        using var run = new LiveProcess(published, ["--ir", doc, "--logs"], Repo, Env);
        await run.WaitForLineAsync(l => l.Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        run.Signal("INT");

        Assert.Equal(130, await run.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("harmont: cancelling; cleaning up (press Ctrl-C again to exit now)", run.Output, StringComparison.Ordinal);
    }

    private (string, string)[] Env =>
        [("HARMONT_CACHE_DIR", Path.Combine(_root, "cache")), ("DOCKER_HOST", $"unix://{_root}/no-engine.sock")];

    private static List<JsonElement> Events(CliResult run) =>
        [.. run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];

    private static async Task<string> PublishedAsync()
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        return published.Binary;
    }

    private async Task<CliResult> BinaryAsync(string workingDirectory, string[] args) =>
        await CliProcess.RunAsync(await PublishedAsync(), workingDirectory, args, Env);
}
