using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// File names a step may create that are not UTF-8, or hold a newline: a run that meets them passes and
/// leaves no work dir, whatever the backend, and a dead run's dir full of them is still collected.
/// </summary>
[NotInParallel(nameof(HostileNameTests))]
public sealed class HostileNameTests : IDisposable
{
    // A name that is not UTF-8, one with a newline, and a directory holding both, cached so they are cloned too.
    private const string Scribble =
        "touch \"$(printf 'bad\\377name')\" \"$(printf 'new\\nline')\" && mkdir \"$(printf 'd\\377ir')\" && " +
        "touch \"$(printf 'd\\377ir/in\\nside')\" && chmod 500 \"$(printf 'd\\377ir')\"";

    private readonly RunHarness _harness = new();

    public void Dispose()
    {
        Exec.RunAsync("chmod", ["-R", "u+rwx", _harness.Root], "/", CancellationToken.None).GetAwaiter().GetResult();
        _harness.Dispose();
    }

    [Test]
    public async Task A_host_step_making_non_utf8_and_newline_names_passes_and_leaves_no_work_dir()
    {
        _harness.WriteSource("source.txt", "x\n");

        var run = await _harness.RunAsync(Scribbling(Runner.Host));

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("look")).IsEquivalentTo((IEnumerable<string>)["names-survive"], CollectionOrdering.Matching);
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task A_docker_step_making_non_utf8_and_newline_names_passes_and_leaves_no_work_dir()
    {
        await BusyboxImage.EnsureAsync();
        _harness.WriteSource("source.txt", "x\n");

        var run = await _harness.RunAsync(Scribbling(Runner.Docker));
        await _harness.RunAsync([], ["cache", "clean"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("look")).IsEquivalentTo((IEnumerable<string>)["names-survive"], CollectionOrdering.Matching);
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
    }

    [Test]
    [Arguments(true)]
    [Arguments(false)]
    public async Task A_dead_runs_dir_holding_non_utf8_and_newline_names_is_collected(bool withLock,CancellationToken cancellationToken)
    {
        _harness.WriteSource("source.txt", "x\n");
        var dead = Directory.CreateDirectory(Path.Combine(_harness.WorkDir, "run-20200101-000000-bad000")).FullName;
        var make = await Exec.RunAsync("sh", ["-c", Scribble], dead, cancellationToken);
        await Assert.That(make.ExitCode == 0).IsTrue().Because(make.Output);
        if (withLock)
        {
            await File.WriteAllTextAsync(Path.Combine(dead, ".lock"), "", cancellationToken);
        }

        // A day and more old, as a dir without its lock must be before it is taken.
        var aged = await Exec.RunAsync("sh", ["-c", "touch -h -d '3 days ago' . .lock 2>/dev/null; touch -d '3 days ago' ."], dead, cancellationToken);
        await Assert.That(aged.ExitCode == 0).IsTrue().Because(aged.Output);

        var run = await _harness.RunAsync(HostChain.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Directory.Exists(dead)).IsFalse();
        await Assert.That(run.Error).Contains("removed 1 work dir(s) left by runs that ended abnormally", StringComparison.Ordinal);
    }

    private static PipelineDefinition Scribbling(Runner runner) => Pipeline(
        $"hostile-names-{runner.ToString().ToLowerInvariant()}",
        runner,
        Cached("scribble", Scribble, null, Forever()),
        Step("look", "test -e \"$(printf 'bad\\377name')\" && test -e \"$(printf 'd\\377ir/in\\nside')\" && echo names-survive", "scribble"));
}
