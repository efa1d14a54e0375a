using System.Text.Json;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The source repository is explicit: --repo DIR, else the git work tree the binary runs in (its root), else an
/// error saying what to do. Pinned on the native binary, where the working directory is the shell's.
/// </summary>
[NotInParallel(nameof(RepoOptionTests))]
public sealed class RepoOptionTests : IDisposable
{
    private readonly BinaryScratch _scratch = new("harmont-repo-", "look", "marker at the root\n", "look.json");

    public RepoOptionTests() => Directory.CreateDirectory(Path.Combine(Repo, "sub", "dir"));

    private string Repo => _scratch.Repo;

    private string Outside => _scratch.Outside;

    private string Doc => _scratch.Doc;

    public void Dispose() => _scratch.Dispose();

    [Test]
    [Arguments("run")]
    [Arguments("explain")]
    [Arguments("run --ir {doc}")]
    [Arguments("explain --ir {doc}")]
    public async Task Outside_any_repository_and_without_repo_is_exit_2_saying_what_to_do(string args)
    {
        var run = await BinaryAsync(Outside, args.Replace("{doc}", Doc, StringComparison.Ordinal).Split(' '));

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        await Assert.That(run.ErrorLines)
            .IsEquivalentTo((IEnumerable<string>)[$"harmont: error: {Outside} is not inside a git repository; run from inside the repository to build, or pass --repo DIR."], CollectionOrdering.Matching);
        await Assert.That(run.Stdout).IsEmpty();
    }

    [Test]
    public async Task Run_ir_from_another_directory_builds_the_repository_repo_names()
    {
        var run = await BinaryAsync(Outside, ["run", "--ir", Doc, "--repo", Repo, "--format", "json"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Logs(run)).IsEquivalentTo((IEnumerable<string?>)["marker at the root"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Repo_may_be_relative_to_the_working_directory()
    {
        var run = await BinaryAsync(Outside, ["run", "--ir", Doc, "--repo", "../repo", "--format", "json"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Logs(run)).IsEquivalentTo((IEnumerable<string?>)["marker at the root"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task From_a_subdirectory_the_source_tree_is_the_git_root()
    {
        var run = await BinaryAsync(Path.Combine(Repo, "sub", "dir"), ["run", "--ir", Doc, "--format", "json"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Logs(run)).IsEquivalentTo((IEnumerable<string?>)["marker at the root"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Explain_takes_repo_and_reads_that_tree(CancellationToken cancellationToken)
    {
        // on_change paths are the repository's: from elsewhere, only --repo says which file they mean.
        var doc = Path.Combine(_scratch.Root, "cached.json");
        await File.WriteAllTextAsync(doc, """
            {"version": "0", "runner": "host", "steps": [{"type": "command", "key": "look", "cmd": "cat marker.txt",
              "cache": {"policy": "on_change", "paths": ["marker.txt"]}}]}
            """, cancellationToken);
        var first = await BinaryAsync(Outside, ["run", "--ir", doc, "--repo", Repo]);
        await File.WriteAllTextAsync(Path.Combine(Repo, "marker.txt"), "edited\n", cancellationToken);

        var explain = await BinaryAsync(Outside, ["explain", "--ir", doc, "--repo", Repo]);

        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(explain.ExitCode == 0).IsTrue().Because(explain.ToString());
        await Assert.That(explain.Stdout).Contains("file marker.txt changed", StringComparison.Ordinal);
    }

    [Test]
    public async Task A_repo_that_does_not_exist_is_exit_2_naming_it()
    {
        var missing = Path.Combine(_scratch.Root, "missing");

        var run = await BinaryAsync(Repo, ["run", "--ir", Doc, "--repo", missing]);

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        await Assert.That(run.ErrorLines)
            .IsEquivalentTo((IEnumerable<string>)[$"harmont: error: --repo {missing} is not a directory; pass the directory of the repository to build."], CollectionOrdering.Matching);
    }

    private static List<string?> Logs(CliResult run) =>
        [.. run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("event").GetString() == "step_log")
            .Select(e => e.GetProperty("line").GetString())];

    private Task<CliResult> BinaryAsync(string workingDirectory, string[] args) => _scratch.RunAsync(workingDirectory, args);
}
