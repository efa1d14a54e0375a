using Harmont.Aot.Cli;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Tests;

/// <summary>
/// The parser inside one process with many invocations (the test host): each one's help and errors reach its own
/// writers, the parser never exits on a signal itself, and --repo chooses the source tree.
/// </summary>
public sealed class ParserInProcessTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
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
                    Assert.Equal(0, exit);
                    Assert.Contains("cache prune", output, StringComparison.Ordinal);
                    Assert.Empty(error);
                    break;
                case 1:
                    Assert.Equal(2, exit);
                    Assert.Empty(output);
                    Assert.Equal($"harmont: error: --format takes human or json, not 'xml{i}' (see 'run --help')\n", error);
                    break;
                default:
                    Assert.Equal(2, exit);
                    Assert.Empty(output);
                    Assert.StartsWith("harmont: error: cache export needs the FILE to write", error, StringComparison.Ordinal);
                    break;
            }
        }
    }

    [Fact]
    public async Task The_parser_s_own_force_exit_after_a_signal_is_off()
    {
        await InvokeAsync("list");

        // Its default gives up on a cancelled verb after 5 s; a run's cleanup may take longer, and a second Ctrl-C is the way out.
        Assert.Equal(Timeout.InfiniteTimeSpan, ConsoleAppFramework.ConsoleApp.Timeout);
    }

    [Fact]
    public async Task Repo_names_the_source_tree_over_the_one_the_command_runs_in()
    {
        var other = Directory.CreateDirectory(Path.Combine(_harness.Root, "other")).FullName;
        await File.WriteAllTextAsync(Path.Combine(other, "source.txt"), "from-other\n", TestContext.Current.CancellationToken);
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition, "--repo", other);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["from-other"], run.LogsOf("setup"));
    }

    [Fact]
    public async Task Repo_relative_to_the_working_directory_and_explain_takes_it_too()
    {
        var other = Directory.CreateDirectory(Path.Combine(_harness.Source, "nested")).FullName;
        await File.WriteAllTextAsync(Path.Combine(other, "source.txt"), "nested\n", TestContext.Current.CancellationToken);

        var explain = await _harness.RunAsync([HostChain.Definition], ["explain", "--repo", "nested"]);

        Assert.True(explain.ExitCode == 0, explain.ToString());
        Assert.Contains("setup", explain.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("explain")]
    public async Task A_repo_that_is_not_a_directory_is_exit_2_in_one_line(string verb)
    {
        var missing = Path.Combine(_harness.Root, "no-such-dir");

        var run = await _harness.RunAsync([HostChain.Definition], [verb, "--repo", missing]);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"harmont: error: --repo {missing} is not a directory; pass the directory of the repository to build.", line);
        Assert.Empty(run.Events);
    }

    private async Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(
            output, error, _harness.Source, Environment.GetEnvironmentVariable,
            DockerConnectors.FromEnvironment(Environment.GetEnvironmentVariable), TestContext.Current.CancellationToken)
        {
            Repository = _harness.Source,
        };
        var exit = await HarmontCli.RunAsync(args, [HostChain.Definition, AutoEcho.Definition], context);
        return (exit, output.ToString(), error.ToString());
    }
}
