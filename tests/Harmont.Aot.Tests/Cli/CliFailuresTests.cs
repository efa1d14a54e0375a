using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Cli;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Tests;

/// <summary>
/// One mapping from what a verb throws to its exit code and its one line on stderr, the same for every verb; what a
/// verb adds is only its own words (the cache dir it uses, the command a registry failure names).
/// </summary>
[NotInParallel(nameof(CliFailuresTests))]
public sealed class CliFailuresTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Each_failure_kind_has_its_exit_code_and_one_line()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var scope = new FailureScope(cancelled.Token)
        {
            FileProblem = message => $"{message}; check the dir",
            RegistryCommand = "cache prune --remote",
        };

        await Assert.That(CliFailures.Describe(new PipelineException("no pipeline named 'x'."), scope))
            .IsEqualTo(new CliFailure(2, "harmont: error: no pipeline named 'x'."));
        await Assert.That(CliFailures.Describe(new EngineUnavailableException("no Docker engine answered"), scope))
            .IsEqualTo(new CliFailure(4, "harmont: error: no Docker engine answered"));
        await Assert.That(CliFailures.Describe(new OperationCanceledException(), scope))
            .IsEqualTo(new CliFailure(130, "harmont: cancelled"));
        await Assert.That(CliFailures.Describe(new TaskCanceledException(), scope))
            .IsEqualTo(new CliFailure(130, "harmont: cancelled"));
        await Assert.That(CliFailures.Describe(new IOException("disk full"), scope))
            .IsEqualTo(new CliFailure(2, "harmont: error: disk full; check the dir"));
        await Assert.That(CliFailures.Describe(new UnauthorizedAccessException("denied"), scope))
            .IsEqualTo(new CliFailure(2, "harmont: error: denied; check the dir"));
        await Assert.That(CliFailures.Describe(new RegistryException("cannot reach the registry h"), scope))
            .IsEqualTo(new CliFailure(1, "harmont: error: cache prune --remote: cannot reach the registry h"));
    }

    [Test]
    public async Task A_failure_the_verb_does_not_explain_is_left_to_escape_as_a_bug()
    {
        var plain = new FailureScope(CancellationToken.None);

        // Not the user's cancel: a step's own timeout, say, is no reason to say "cancelled".
        await Assert.That(CliFailures.Describe(new OperationCanceledException(), plain)).IsNull();
        await Assert.That(CliFailures.Describe(new IOException("disk full"), plain)).IsNull();
        await Assert.That(CliFailures.Describe(new UnauthorizedAccessException("denied"), plain)).IsNull();
        await Assert.That(CliFailures.Describe(new RegistryException("refused"), plain)).IsNull();
        await Assert.That(CliFailures.Describe(new InvalidOperationException("a bug"), plain)).IsNull();
        await Assert.That(CliFailures.Describe(new ArgumentException("a bug"), plain)).IsNull();
    }

    [Test]
    public async Task A_usage_error_found_by_a_verb_or_by_the_parser_is_one_line_and_exit_2()
    {
        var verb = await _harness.RunAsync([HostChain.Definition], ["render", "nope"]);
        var option = await _harness.RunAsync([HostChain.Definition], ["stats", "--format", "7"]);

        await Assert.That(verb.ExitCode == 2).IsTrue().Because(verb.ToString());
        await Assert.That(verb.Error).IsEqualTo("harmont: error: no pipeline named 'nope'. This program defines: host-chain.\n");
        await Assert.That(option.ExitCode == 2).IsTrue().Because(option.ToString());
        await Assert.That(option.Error).IsEqualTo("harmont: error: --format takes human or json, not 7.\n");
    }

    [Test]
    public async Task A_verb_cancelled_by_the_user_exits_130_saying_so_whatever_the_verb()
    {
        _harness.WriteSource("source.txt", "x\n");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var (exit, output, error) = await InvokeAsync(cancelled.Token, "explain");

        await Assert.That(exit == 130).IsTrue().Because($"exit {exit}\n{output}\n{error}");
        await Assert.That(error).IsEqualTo("harmont: cancelled\n");
    }

    [Test]
    public async Task A_cache_verb_that_cannot_read_names_its_cache_dir_in_one_line()
    {
        // A file that exists and fails every read (EIO at offset 0), even for root: a real read failure.
        var import = await _harness.RunAsync([], ["cache", "import", "/proc/self/mem"]);

        await Assert.That(import.ExitCode == 2).IsTrue().Because(import.ToString());
        var line = await Assert.That(import.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).StartsWith("harmont: error: ", StringComparison.Ordinal);
        await Assert.That(line).EndsWith(
            $". Check that the cache directory ({_harness.Cache}) and any file named are readable and writable.", StringComparison.Ordinal);
    }

    [Test]
    public async Task Remote_prune_against_a_registry_that_does_not_answer_exits_1_naming_the_command()
    {
        // Port 1 on loopback: nothing listens, so the connection is refused at once.
        var prune = await _harness.RunAsync([], ["cache", "prune", "--remote", "--keep", "1", "--cache-remote", "oci://127.0.0.1:1/nowhere"]);

        await Assert.That(prune.ExitCode == 1).IsTrue().Because(prune.ToString());
        var line = await Assert.That(prune.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).StartsWith("harmont: error: cache prune --remote: cannot reach the registry 127.0.0.1:1", StringComparison.Ordinal);
    }

    [Test]
    public async Task A_required_engine_that_does_not_answer_is_exit_4_in_one_error_line()
    {
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync(AutoEcho.Definition, "--runner", "docker");

        await Assert.That(run.ExitCode == 4).IsTrue().Because(run.ToString());
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).StartsWith("harmont: error: ", StringComparison.Ordinal);
        await Assert.That(line).Contains($"unix://{_harness.Root}/no-engine.sock", StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Error)> InvokeAsync(CancellationToken cancellation, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string? GetEnv(string name) => name == "HARMONT_CACHE_DIR" ? _harness.Cache : Environment.GetEnvironmentVariable(name);
        var context = new CliContext(output, error, _harness.Source, GetEnv, DockerConnectors.FromEnvironment(GetEnv), cancellation)
        {
            Repository = _harness.Source,
        };
        var exit = await HarmontCli.RunAsync(args, [HostChain.Definition], context);
        return (exit, output.ToString(), error.ToString());
    }
}
