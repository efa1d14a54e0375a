using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Host;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The non-root route's bwrap start: a setup failure is retried and said once, a step's own failure
/// is never retried, and the readiness marker never reaches the log.
/// </summary>
[NotInParallel(nameof(BwrapStartTests))]
public sealed class BwrapStartTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-bwrap-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task A_step_that_fails_by_itself_runs_once_and_its_output_is_all_there(CancellationToken cancellationToken)
    {
        var (workspace, stable) = Paths();
        var counter = Path.Combine(_root, "runs.txt");

        var result = await BwrapStart.RunAsync(Step($"echo ran >> {counter}; echo out; echo err >&2; pwd -P; exit 1", workspace), stable, stable, cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(1);
        await Assert.That(File.ReadAllLines(counter)).IsEquivalentTo((IEnumerable<string>)["ran"], CollectionOrdering.Matching);
        await Assert.That(Lines(LogStream.Stdout)).IsEquivalentTo((IEnumerable<string>)["out", stable], CollectionOrdering.Matching);
        await Assert.That(Lines(LogStream.Stderr)).IsEquivalentTo((IEnumerable<string>)["err"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_bwrap_setup_failure_is_told_from_the_steps_own_and_said_once(CancellationToken cancellationToken)
    {
        var (workspace, _) = Paths();
        var notADirectory = Path.Combine(_root, "file");
        await File.WriteAllTextAsync(notADirectory, "", cancellationToken);
        var counter = Path.Combine(_root, "runs.txt");

        var result = await BwrapStart.RunAsync(Step($"echo ran >> {counter}", workspace), notADirectory, notADirectory, cancellationToken);

        await Assert.That(result.ExitCode).IsNotEqualTo(0);
        await Assert.That(File.Exists(counter)).IsFalse();
        var error = await Assert.That(_log).HasSingleItem();
        await Assert.That(error.Stream).IsEqualTo(LogStream.Stderr);
        await Assert.That(error.Line).StartsWith("bwrap: ", StringComparison.Ordinal);
    }

    [Test]
    public async Task What_the_step_left_running_in_its_namespace_ends_with_it(CancellationToken cancellationToken)
    {
        var (workspace, stable) = Paths();
        var pids = Path.Combine(_root, "pids");

        var result = await BwrapStart.RunAsync(
            Step($"setsid sh -c 'echo $$ > {pids}; exec sleep 120' < /dev/null > /dev/null 2>&1 & while [ ! -s {pids} ]; do sleep 0.05; done", workspace),
            stable, stable, cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(0);
        await Assert.That(StablePathTests.IsGone(File.ReadAllText(pids))).IsTrue().Because("the step's background process outlived it");
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
