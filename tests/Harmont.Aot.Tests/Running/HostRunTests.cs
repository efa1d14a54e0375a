using System.Diagnostics;
using Harmont.Aot.Events;

namespace Harmont.Aot.Tests;

public sealed class HostRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Chain_on_the_host_hands_each_child_its_parents_workspace()
    {
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["from-source"], run.LogsOf("setup"));
        Assert.Equal(["from-setup"], run.LogsOf("build"));
        Assert.Equal(["from-setup", "from-build", "hello from env", "True"], run.LogsOf("verify"));
        Assert.All(["setup", "build", "verify"], s => Assert.Equal("host", run.StartOf(s).Backend));
        Assert.Empty(_harness.LeftoverRunDirs());
        Assert.False(File.Exists(Path.Combine(_harness.Source, "made-by-setup.txt")));
    }

    [Fact]
    public async Task Forked_siblings_on_the_host_are_isolated_and_overlap()
    {
        var run = await _harness.RunAsync(HostFork.Definition, "-j", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["base.txt", "left.txt"], run.LogsOf("left"));
        Assert.Equal(["base.txt", "right.txt"], run.LogsOf("right"));
        Assert.True(run.StartOf("left").At < run.EndOf("right").At && run.StartOf("right").At < run.EndOf("left").At);
    }

    [Fact]
    public async Task Source_base_honours_gitignore_takes_uncommitted_files_and_never_writes_the_tree()
    {
        _harness.WriteSource(".gitignore", "ignored.txt\nbuild/\n");
        _harness.WriteSource("tracked.txt", "v1");
        _harness.WriteSource("build/out.bin", "ignored dir");
        _harness.WriteSource(".git-excluded.txt", "excluded via info/exclude");
        Git("init", "-q");
        await File.AppendAllTextAsync(Path.Combine(_harness.Source, ".git", "info", "exclude"), ".git-excluded.txt\n", TestContext.Current.CancellationToken);
        Git("add", ".gitignore", "tracked.txt");
        Git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
        _harness.WriteSource("tracked.txt", "v2 uncommitted");
        _harness.WriteSource("untracked.txt", "new");
        _harness.WriteSource("ignored.txt", "secret-ish");
        var before = Snapshot(_harness.Source);

        var run = await _harness.RunAsync(HostSource.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["./.gitignore", "./tracked.txt", "./untracked.txt"], run.LogsOf("inspect"));
        Assert.Equal(before, Snapshot(_harness.Source));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cache_dir_kept_inside_the_source_tree_is_never_part_of_the_source_base(bool inGit)
    {
        _harness.WriteSource("app.txt", "app");
        _harness.Env["HARMONT_CACHE_DIR"] = Path.Combine(_harness.Source, ".harmont");
        if (inGit)
        {
            Git("init", "-q");
        }

        var first = await _harness.RunAsync(HostList.Definition);
        var second = await _harness.RunAsync(HostList.Definition);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(["./app.txt"], second.LogsOf("inspect"));
    }

    [Fact]
    public async Task Failure_cancels_running_siblings_skips_dependents_and_exits_1()
    {
        var run = await _harness.RunAsync(HostFail.Definition, "-j", "2");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(42, run.EndOf("fails").ExitCode);
        Assert.Equal(StepStatus.Cancelled, run.StatusOf("slow"));
        Assert.Equal(StepStatus.Skipped, run.StatusOf("child"));
        Assert.False(run.Started("child"));
        Assert.Contains("partial output", run.Output, StringComparison.Ordinal);
        Assert.Empty(run.LogsOf("slow"));
    }

    [Fact]
    public async Task Keep_going_lets_independent_branches_finish()
    {
        var run = await _harness.RunAsync(HostFail.Definition, "-j", "2", "--keep-going");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(StepStatus.Passed, run.StatusOf("slow"));
        Assert.Equal(["slow-finished"], run.LogsOf("slow"));
        Assert.Equal(StepStatus.Skipped, run.StatusOf("child"));
    }

    private void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _harness.Source, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {process.StandardError.ReadToEnd()}");
    }

    private static Dictionary<string, string> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/.git/", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText);
}
