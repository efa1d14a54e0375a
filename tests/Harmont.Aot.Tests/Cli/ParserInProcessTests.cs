using Harmont.Aot.Cli;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The parser inside one process with many invocations (the test host): each one's help and errors reach its own
/// writers, the parser never exits on a signal itself, and --repo chooses the source tree.
/// </summary>
[NotInParallel(nameof(ParserInProcessTests))]
public sealed class ParserInProcessTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Invocations_side_by_side_each_get_their_own_help_and_errors()
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() => (i % 3) switch
        {
            0 => InvokeAsync("--help"),
            1 => InvokeAsync("run", "--format", $"xml{i}"),
            _ => InvokeAsync("cache", "export"),
        })));

        for (var i = 0; i < runs.Length; i++)
        {
            var (exit, output, error) = runs[i];
            switch (i % 3)
            {
                case 0:
                    await Assert.That(exit).IsEqualTo(0);
                    await Assert.That(output).Contains("cache prune", StringComparison.Ordinal);
                    await Assert.That(error).IsEmpty();
                    break;
                case 1:
                    await Assert.That(exit).IsEqualTo(2);
                    await Assert.That(output).IsEmpty();
                    await Assert.That(error).IsEqualTo($"harmont: error: --format takes human or json, not 'xml{i}' (see 'run --help')\n");
                    break;
                default:
                    await Assert.That(exit).IsEqualTo(2);
                    await Assert.That(output).IsEmpty();
                    await Assert.That(error).StartsWith("harmont: error: cache export needs the FILE to write", StringComparison.Ordinal);
                    break;
            }
        }
    }

    [Test]
    public async Task The_parser_s_own_force_exit_after_a_signal_is_off()
    {
        await InvokeAsync("list");

        // Its default gives up on a cancelled verb after 5 s; a run's cleanup may take longer, and a second Ctrl-C is the way out.
        await Assert.That(ConsoleAppFramework.ConsoleApp.Timeout).IsEqualTo(Timeout.InfiniteTimeSpan);
    }

    [Test]
    public async Task Repo_names_the_source_tree_over_the_one_the_command_runs_in(CancellationToken cancellationToken)
    {
        var other = Directory.CreateDirectory(Path.Combine(_harness.Root, "other")).FullName;
        await File.WriteAllTextAsync(Path.Combine(other, "source.txt"), "from-other\n", cancellationToken);
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition, "--repo", other);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("setup")).IsEquivalentTo((IEnumerable<string>)["from-other"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Repo_relative_to_the_working_directory_and_explain_takes_it_too(CancellationToken cancellationToken)
    {
        var other = Directory.CreateDirectory(Path.Combine(_harness.Source, "nested")).FullName;
        await File.WriteAllTextAsync(Path.Combine(other, "source.txt"), "nested\n", cancellationToken);

        var explain = await _harness.RunAsync([HostChain.Definition], ["explain", "--repo", "nested"]);

        await Assert.That(explain.ExitCode == 0).IsTrue().Because(explain.ToString());
        await Assert.That(explain.Output).Contains("setup", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("run")]
    [Arguments("explain")]
    public async Task A_repo_that_is_not_a_directory_is_exit_2_in_one_line(string verb)
    {
        var missing = Path.Combine(_harness.Root, "no-such-dir");

        var run = await _harness.RunAsync([HostChain.Definition], [verb, "--repo", missing]);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).IsEqualTo($"harmont: error: --repo {missing} is not a directory; pass the directory of the repository to build.");
        await Assert.That(run.Events).IsEmpty();
    }

    private async Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(
            output, error, _harness.Source, Environment.GetEnvironmentVariable,
            DockerConnectors.FromEnvironment(Environment.GetEnvironmentVariable), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None)
        {
            Repository = _harness.Source,
        };
        var exit = await HarmontCli.RunAsync(args, [HostChain.Definition, AutoEcho.Definition], context);
        return (exit, output.ToString(), error.ToString());
    }
}
