using System.Text.Json;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The command line users have, pinned on the real native binary: stdout, stderr and exit code as a shell sees them.
/// Runs use host-runner IR documents, so no engine is needed.
/// </summary>
[NotInParallel(nameof(CliContractTests))]
public sealed class CliContractTests : IDisposable
{
    private readonly BinaryScratch _scratch = new("harmont-cli-", "hello", "marker\n", "hello.json");

    private string Repo => _scratch.Repo;

    private string Outside => _scratch.Outside;

    private string Doc => _scratch.Doc;

    public void Dispose() => _scratch.Dispose();

    [Test]
    [Arguments("--format=json")]
    [Arguments("--format json")]
    [Arguments("--format:json")]
    public async Task Format_json_in_each_form_puts_only_ndjson_events_on_stdout(string form)
    {
        var run = await BinaryAsync(Repo, ["run", "--ir", Doc, .. form.Split(' ')]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        var events = Events(run);
        await Assert.That(events[0].GetProperty("event").GetString()).IsEqualTo("build_start");
        await Assert.That(events[^1].GetProperty("event").GetString()).IsEqualTo("build_end");
        await Assert.That(events).Contains(e => e.GetProperty("event").GetString() == "step_log" && e.GetProperty("line").GetString() == "marker");
    }

    [Test]
    [Arguments("-j {0}")]
    [Arguments("-j{0}")]
    [Arguments("-j={0}")]
    [Arguments("--parallelism {0}")]
    [Arguments("--parallelism={0}")]
    [Arguments("-kj{0}")]
    public async Task Parallelism_in_each_form_reaches_the_run(string form)
    {
        var zero = await BinaryAsync(Repo, ["--ir", Doc, .. string.Format(null, form, 0).Split(' ')]);
        var four = await BinaryAsync(Repo, ["--ir", Doc, .. string.Format(null, form, 4).Split(' ')]);

        await Assert.That(zero.ExitCode == 2).IsTrue().Because(zero.ToString());
        await Assert.That(zero.ErrorLines)
            .IsEquivalentTo((IEnumerable<string>)["harmont: error: --parallelism must be at least 1, not 0."], CollectionOrdering.Matching);
        await Assert.That(four.ExitCode == 0).IsTrue().Because(four.ToString());
    }

    [Test]
    public async Task Run_is_the_verb_when_there_are_no_arguments()
    {
        var run = await BinaryAsync(Repo, []);

        // The smoke program defines several pipelines: run's own answer is to ask which.
        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        await Assert.That(run.Stdout).IsEmpty();
        await Assert.That(await Assert.That(run.ErrorLines).HasSingleItem()).Contains("name the one to run, e.g. 'run ", StringComparison.Ordinal);
    }

    [Test]
    public async Task Run_is_the_verb_for_options_alone_and_a_double_dash_argument_names_the_pipeline()
    {
        var run = await BinaryAsync(Repo, ["--ir", Doc, "--format", "json", "--", "renamed"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Events(run)[0].GetProperty("pipeline").GetString()).IsEqualTo("renamed");
    }

    [Test]
    [Arguments("--help")]
    [Arguments("-h")]
    [Arguments("-?")]
    public async Task Cache_help_lists_the_cache_verbs(string help)
    {
        var run = await BinaryAsync(Repo, ["cache", help]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        foreach (var verb in new[] { "ls", "prune", "clean", "export", "import" })
        {
            await Assert.That(run.Stdout).Matches($@"(?m)^  cache {verb}\s+\S");
        }

        await Assert.That(run.Stdout).DoesNotContain("doctor", StringComparison.Ordinal);
        await Assert.That(run.Stderr).IsEmpty();
    }

    [Test]
    public async Task Help_lists_every_verb_and_says_run_is_the_default()
    {
        var run = await BinaryAsync(Repo, ["--help"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        foreach (var verb in new[] { "run", "list", "render", "graph", "explain", "doctor", "cache ls" })
        {
            await Assert.That(run.Stdout).Matches($@"(?m)^  {verb}\s+\S");
        }

        await Assert.That(run.Stdout).Contains("(the default verb)", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("cache export", "cache export needs the FILE to write")]
    [Arguments("cache import", "cache import needs the FILE to read")]
    [Arguments("cache", "cache needs a verb")]
    [Arguments("cache frob", "'frob'")]
    [Arguments("--format xml", "--format takes human or json, not 'xml'")]
    [Arguments("--runner=vm", "--runner takes auto, docker or host, not 'vm'")]
    [Arguments("-j abc", "-j 4, not 'abc'")]
    [Arguments("--bogus", "unknown option '--bogus'")]
    [Arguments("run --ir", "--ir needs a value")]
    [Arguments("list extra", "unexpected argument 'extra'")]
    [Arguments("doctor --bogus", "unknown option '--bogus'")]
    [Arguments("doctor --bench extra", "unexpected argument 'extra'")]
    [Arguments("cache clean now", "unexpected argument 'now'")]
    [Arguments("explain a b", "unexpected argument 'b'")]
    [Arguments("@missing.rsp", "'missing.rsp'")]
    [Arguments("cache prune --older-than=7x", "--older-than '7x'")]
    public async Task A_missing_or_invalid_argument_is_exit_2_with_one_line_naming_it(string args, string named)
    {
        var run = await BinaryAsync(Repo, args.Split(' '));

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        await Assert.That(run.Stdout).IsEmpty();
        var line = await Assert.That(run.ErrorLines).HasSingleItem();
        await Assert.That(line).StartsWith("harmont: error: ", StringComparison.Ordinal);
        await Assert.That(line).Contains(named, StringComparison.Ordinal);
    }

    [Test]
    [Arguments("true", 0)]
    [Arguments("exit 3", 1)]
    [Arguments("sleep 30", 124)]
    public async Task Exit_codes_say_how_the_run_ended(string command, int exitCode,CancellationToken cancellationToken)
    {
        var doc = Path.Combine(_scratch.Root, "ends.json");
        await File.WriteAllTextAsync(
            doc, $$"""{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "s", "cmd": "{{command}}", "timeout_seconds": 1}]}""", cancellationToken);

        var run = await BinaryAsync(Repo, ["--ir", doc]);

        await Assert.That(run.ExitCode == exitCode).IsTrue().Because(run.ToString());
    }

    [Test]
    public async Task A_step_that_needs_docker_with_no_engine_is_exit_4(CancellationToken cancellationToken)
    {
        var doc = Path.Combine(_scratch.Root, "docker.json");
        await File.WriteAllTextAsync(
            doc, """{"version": "0", "runner": "docker", "steps": [{"type": "command", "key": "s", "image": "busybox", "cmd": "true"}]}""", cancellationToken);

        var run = await BinaryAsync(Repo, ["--ir", doc]);

        await Assert.That(run.ExitCode == 4).IsTrue().Because(run.ToString());
    }

    [Test]
    public async Task Ctrl_c_is_ours_to_handle_it_cancels_the_run_with_130(CancellationToken cancellationToken)
    {
        var doc = Path.Combine(_scratch.Root, "slow.json");
        await File.WriteAllTextAsync(
            doc, """{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "s", "cmd": "echo ready && sleep 300"}]}""", cancellationToken);
        var published = await PublishedAsync();
        using var run = new LiveProcess(published, ["--ir", doc, "--logs"], Repo, Env);
        await run.WaitForLineAsync(l => l.Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        run.Signal("INT");

        await Assert.That(await run.WaitForExitAsync(TimeSpan.FromSeconds(60))).IsEqualTo(130);
        await Assert.That(run.Output).Contains("harmont: cancelling; cleaning up (press Ctrl-C again to exit now)", StringComparison.Ordinal);
    }

    private (string, string)[] Env => _scratch.Env;

    private static List<JsonElement> Events(CliResult run) =>
        [.. run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];

    private static Task<string> PublishedAsync() => BinaryScratch.PublishedAsync();

    private Task<CliResult> BinaryAsync(string workingDirectory, string[] args) => _scratch.RunAsync(workingDirectory, args);
}
