using System.Diagnostics;
using Harmont.Aot.Events;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(HostRunTests))]
public sealed class HostRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Chain_on_the_host_hands_each_child_its_parents_workspace()
    {
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("setup")).IsEquivalentTo((IEnumerable<string>)["from-source"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["from-setup"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("verify"))
            .IsEquivalentTo((IEnumerable<string>)["from-setup", "from-build", "hello from env", "True"], CollectionOrdering.Matching);
        foreach (var s in new[] { "setup", "build", "verify" })
        {
            await Assert.That(run.StartOf(s).Backend).IsEqualTo("host");
        }
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
        await Assert.That(File.Exists(Path.Combine(_harness.Source, "made-by-setup.txt"))).IsFalse();
    }

    [Test]
    public async Task Forked_siblings_on_the_host_are_isolated_and_overlap()
    {
        var run = await _harness.RunAsync(HostFork.Definition, "-j", "2");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("left")).IsEquivalentTo((IEnumerable<string>)["base.txt", "left.txt"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("right")).IsEquivalentTo((IEnumerable<string>)["base.txt", "right.txt"], CollectionOrdering.Matching);
        await Assert.That(run.StartOf("left").At < run.EndOf("right").At && run.StartOf("right").At < run.EndOf("left").At).IsTrue();
    }

    [Test]
    public async Task Source_base_honours_gitignore_takes_uncommitted_files_and_never_writes_the_tree(CancellationToken cancellationToken)
    {
        _harness.WriteSource(".gitignore", "ignored.txt\nbuild/\n");
        _harness.WriteSource("tracked.txt", "v1");
        _harness.WriteSource("build/out.bin", "ignored dir");
        _harness.WriteSource(".git-excluded.txt", "excluded via info/exclude");
        await Git("init", "-q");
        await File.AppendAllTextAsync(Path.Combine(_harness.Source, ".git", "info", "exclude"), ".git-excluded.txt\n", cancellationToken);
        await Git("add", ".gitignore", "tracked.txt");
        await Git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
        _harness.WriteSource("tracked.txt", "v2 uncommitted");
        _harness.WriteSource("untracked.txt", "new");
        _harness.WriteSource("ignored.txt", "secret-ish");
        var before = Snapshot(_harness.Source);

        var run = await _harness.RunAsync(HostSource.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("inspect"))
            .IsEquivalentTo((IEnumerable<string>)["./.gitignore", "./tracked.txt", "./untracked.txt"], CollectionOrdering.Matching);
        await Assert.That(Snapshot(_harness.Source)).IsEquivalentTo(before, CollectionOrdering.Any);
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task Cache_dir_kept_inside_the_source_tree_is_never_part_of_the_source_base(bool inGit)
    {
        _harness.WriteSource("app.txt", "app");
        _harness.Env["HARMONT_CACHE_DIR"] = Path.Combine(_harness.Source, ".harmont");
        if (inGit)
        {
            await Git("init", "-q");
        }

        var first = await _harness.RunAsync(HostList.Definition);
        var second = await _harness.RunAsync(HostList.Definition);

        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.LogsOf("inspect")).IsEquivalentTo((IEnumerable<string>)["./app.txt"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Failure_cancels_running_siblings_skips_dependents_and_exits_1()
    {
        var run = await _harness.RunAsync(HostFail.Definition, "-j", "2");

        await Assert.That(run.ExitCode).IsEqualTo(1);
        await Assert.That(run.EndOf("fails").ExitCode).IsEqualTo(42);
        await Assert.That(run.StatusOf("slow")).IsEqualTo(StepStatus.Cancelled);
        await Assert.That(run.StatusOf("child")).IsEqualTo(StepStatus.Skipped);
        await Assert.That(run.Started("child")).IsFalse();
        await Assert.That(run.Output).Contains("partial output", StringComparison.Ordinal);
        await Assert.That(run.LogsOf("slow")).IsEmpty();
    }

    [Test]
    public async Task Keep_going_lets_independent_branches_finish()
    {
        var run = await _harness.RunAsync(HostFail.Definition, "-j", "2", "--keep-going");

        await Assert.That(run.ExitCode).IsEqualTo(1);
        await Assert.That(run.StatusOf("slow")).IsEqualTo(StepStatus.Passed);
        await Assert.That(run.LogsOf("slow")).IsEquivalentTo((IEnumerable<string>)["slow-finished"], CollectionOrdering.Matching);
        await Assert.That(run.StatusOf("child")).IsEqualTo(StepStatus.Skipped);
    }

    private async Task Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _harness.Source, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        process.WaitForExit();
        await Assert.That(process.ExitCode == 0).IsTrue().Because($"git {string.Join(' ', args)}: {process.StandardError.ReadToEnd()}");
    }

    private static Dictionary<string, string> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/.git/", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText);
}
