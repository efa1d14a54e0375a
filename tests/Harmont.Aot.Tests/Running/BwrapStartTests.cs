using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Host;

namespace Harmont.Aot.Tests;

/// <summary>
/// The non-root route's bwrap start: a setup failure is retried and said once, a step's own failure
/// is never retried, and the readiness marker never reaches the log.
/// </summary>
public sealed class BwrapStartTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-bwrap-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_step_that_fails_by_itself_runs_once_and_its_output_is_all_there()
    {
        var (workspace, stable) = Paths();
        var counter = Path.Combine(_root, "runs.txt");

        var result = await BwrapStart.RunAsync(Step($"echo ran >> {counter}; echo out; echo err >&2; pwd -P; exit 1", workspace), stable, stable, TestContext.Current.CancellationToken);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(["ran"], File.ReadAllLines(counter));
        Assert.Equal(["out", stable], Lines(LogStream.Stdout));
        Assert.Equal(["err"], Lines(LogStream.Stderr));
    }

    [Fact]
    public async Task A_bwrap_setup_failure_is_told_from_the_steps_own_and_said_once()
    {
        var (workspace, _) = Paths();
        var notADirectory = Path.Combine(_root, "file");
        await File.WriteAllTextAsync(notADirectory, "", TestContext.Current.CancellationToken);
        var counter = Path.Combine(_root, "runs.txt");

        var result = await BwrapStart.RunAsync(Step($"echo ran >> {counter}", workspace), notADirectory, notADirectory, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(File.Exists(counter));
        var error = Assert.Single(_log);
        Assert.Equal(LogStream.Stderr, error.Stream);
        Assert.StartsWith("bwrap: ", error.Line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_the_step_left_running_in_its_namespace_ends_with_it()
    {
        var (workspace, stable) = Paths();
        var pids = Path.Combine(_root, "pids");

        var result = await BwrapStart.RunAsync(
            Step($"setsid sh -c 'echo $$ > {pids}; exec sleep 120' < /dev/null > /dev/null 2>&1 & while [ ! -s {pids} ]; do sleep 0.05; done", workspace),
            stable, stable, TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.True(StablePathTests.IsGone(File.ReadAllText(pids)), "the step's background process outlived it");
    }

    private (string Workspace, string Stable) Paths() =>
        (Directory.CreateDirectory(Path.Combine(_root, "ws")).FullName, Directory.CreateDirectory(Path.Combine(_root, "stable")).FullName);

    private IReadOnlyList<string> Lines(LogStream stream)
    {
        lock (_log)
        {
            return [.. _log.Where(e => e.Stream == stream).Select(e => e.Line)];
        }
    }

    private StepInvocation Step(string command, string workspace) =>
        new("test-run", "step", command, workspace, null, [], KeepSnapshot: false, (stream, line) =>
        {
            lock (_log)
            {
                _log.Add((stream, line));
            }
        });
}
