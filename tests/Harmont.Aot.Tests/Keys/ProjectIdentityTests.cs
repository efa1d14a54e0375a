using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.Keys;

/// <summary>
/// With no <c>origin</c> remote, the project is the repository's root commit, so clones of one history at
/// different paths share the cache; a repository with no commit yet (or a shallow clone) falls back to its
/// path, <c>origin</c> still wins over both, and <c>explain</c> says which is in force.
/// </summary>
[NotInParallel(nameof(ProjectIdentityTests))]
public sealed class ProjectIdentityTests : IDisposable
{
    private static readonly string[] GitFiles = ["config", "HEAD", "refs/heads/main", "refs/heads/other"];
    private readonly string _dir = Directory.CreateTempSubdirectory("harmont-identity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PipelineDefinition Pipeline(string? project = null) => new()
    {
        Slug = "clones",
        Runner = Aot.Runner.Host,
        Project = project,
        Steps =
        [
            Define.Cached("deps", "echo deps > deps.txt", null, Define.Forever()),
            Define.Cached("build", "cat deps.txt src.txt > out.txt", "deps", Define.OnChange("src.txt")),
        ],
    };

    [Test]
    public async Task Two_clones_at_different_paths_with_no_origin_share_every_entry(CancellationToken cancellationToken)
    {
        using var first = new RunHarness();
        using var second = new RunHarness();
        await GitRepo.InitAsync(first, ("src.txt", "hello\n"));
        await Git(second.Root, cancellationToken, "clone", "-q", first.Source, second.Source);
        await Git(second.Source, cancellationToken, "remote", "remove", "origin");
        second.Env["HARMONT_CACHE_DIR"] = first.Cache;

        var cold = await first.RunAsync(Pipeline());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(cold.Executed.Count).IsEqualTo(2);

        var other = await second.RunAsync(Pipeline(), "--explain");

        await Assert.That(other.ExitCode == 0).IsTrue().Because(other.ToString());
        await Assert.That(other.Executed).IsEmpty().Because(other.ToString());
        await Assert.That(other.Hit("deps") && other.Hit("build")).IsTrue().Because(other.ToString());
        await Assert.That(other.Output).Contains($"project: root commit {(await RootOf(first.Source, cancellationToken))[..8]} (no origin remote")
            .Because(other.Output);
    }

    [Test]
    public async Task A_repository_with_no_commit_yet_falls_back_to_its_path(CancellationToken cancellationToken)
    {
        await Git(_dir, cancellationToken, "init", "-q");
        await Assert.That(await ProjectIdentity.ResolveAsync(null, _dir, cancellationToken)).IsEqualTo($"path:{_dir}");

        await Commit(_dir, "first", cancellationToken);
        await Assert.That(await ProjectIdentity.ResolveAsync(null, _dir, cancellationToken)).IsEqualTo($"root:{await RootOf(_dir, cancellationToken)}");
    }

    [Test]
    public async Task Origin_still_wins_over_the_root_commit_and_a_name_over_both(CancellationToken cancellationToken)
    {
        await Git(_dir, cancellationToken, "init", "-q");
        await Commit(_dir, "first", cancellationToken);
        await Git(_dir, cancellationToken, "remote", "add", "origin", "https://example.com/Acme/App.git");

        await Assert.That(await ProjectIdentity.ResolveAsync(null, _dir, cancellationToken)).IsEqualTo("origin:example.com/acme/app");
        await Assert.That(await ProjectIdentity.ResolveAsync("acme", _dir, cancellationToken)).IsEqualTo("name:acme");
    }

    [Test]
    public async Task Merged_unrelated_histories_keep_the_root_of_the_first_parent_line(CancellationToken cancellationToken)
    {
        await Git(_dir, cancellationToken, "init", "-q", "-b", "main");
        await Commit(_dir, "main root", cancellationToken);
        var mainRoot = await RootOf(_dir, cancellationToken);
        await Git(_dir, cancellationToken, "checkout", "-q", "--orphan", "other");
        await Commit(_dir, "other root", cancellationToken);
        await Git(_dir, cancellationToken, "checkout", "-q", "main");
        await Git(_dir, cancellationToken, "merge", "-q", "--allow-unrelated-histories", "-m", "merge", "other");

        await Assert.That(await ProjectIdentity.ResolveAsync(null, _dir, cancellationToken)).IsEqualTo($"root:{mainRoot}");
    }

    [Test]
    public async Task A_shallow_clone_falls_back_to_its_path_not_where_its_history_was_cut(CancellationToken cancellationToken)
    {
        var full = Path.Combine(_dir, "full");
        var shallow = Path.Combine(_dir, "shallow");
        Directory.CreateDirectory(full);
        await Git(full, cancellationToken, "init", "-q");
        await Commit(full, "one", cancellationToken);
        await Commit(full, "two", cancellationToken);
        await Git(_dir, cancellationToken, "clone", "-q", "--depth", "1", "file://" + full, shallow);
        await Git(shallow, cancellationToken, "remote", "remove", "origin");

        await Assert.That(await ProjectIdentity.ResolveAsync(null, shallow, cancellationToken)).IsEqualTo($"path:{shallow}");
    }

    [Test]
    public async Task A_remembered_identity_follows_a_first_commit_and_a_new_root(CancellationToken cancellationToken)
    {
        var repo = Path.Combine(_dir, "repo");
        var memo = Path.Combine(_dir, "memo");
        Directory.CreateDirectory(repo);
        Directory.CreateDirectory(memo);
        await Git(repo, cancellationToken, "init", "-q", "-b", "main");
        async Task<string> ResolveAged()
        {
            // Older than two seconds, so the answer may be remembered.
            foreach (var file in GitFiles.Select(f => Path.Combine(repo, ".git", f)).Where(File.Exists))
            {
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-1));
            }

            var once = await ProjectIdentity.ResolveAsync(null, repo, cancellationToken, memo);
            await Assert.That(await ProjectIdentity.ResolveAsync(null, repo, cancellationToken, memo)).IsEqualTo(once);
            return once;
        }

        await Assert.That(await ResolveAged()).IsEqualTo($"path:{repo}");
        await Assert.That(File.ReadAllText(Path.Combine(memo, "project-identity"))).Contains($"path:{repo}");

        await Commit(repo, "first", cancellationToken);
        var firstRoot = await RootOf(repo, cancellationToken);
        await Assert.That(await ResolveAged()).IsEqualTo($"root:{firstRoot}");

        // Another history checked out: a new root, never the remembered one.
        await Git(repo, cancellationToken, "checkout", "-q", "--orphan", "other");
        await Commit(repo, "unrelated", cancellationToken);
        var otherRoot = await RootOf(repo, cancellationToken);
        await Assert.That(otherRoot).IsNotEqualTo(firstRoot);
        await Assert.That(await ResolveAged()).IsEqualTo($"root:{otherRoot}");

        await Git(repo, cancellationToken, "checkout", "-q", "main");
        await Assert.That(await ResolveAged()).IsEqualTo($"root:{firstRoot}");
    }

    [Test]
    public async Task Explain_names_the_identity_in_force(CancellationToken cancellationToken)
    {
        using var harness = new RunHarness();
        harness.WriteSource("src.txt", "hello\n");
        var empty = await harness.RunAsync([Pipeline()], ["explain"]);
        await Assert.That(empty.Output).Contains($"project: repository path {harness.Source} (no origin remote and no root commit").Because(empty.ToString());

        await GitRepo.InitAsync(harness, ("src.txt", "hello\n"));
        var root = await harness.RunAsync([Pipeline()], ["explain"]);
        await Assert.That(root.Output).Contains($"project: root commit {(await RootOf(harness.Source, cancellationToken))[..8]} (no origin remote")
            .Because(root.ToString());
        await Assert.That(root.Output).Contains("set [Pipeline(Project=…)] to choose one");

        await GitRepo.RunAsync(harness, "remote", "add", "origin", "git@example.com:Acme/App.git");
        var origin = await harness.RunAsync([Pipeline()], ["explain"]);
        await Assert.That(origin.Output).Contains("project: origin remote example.com/acme/app").Because(origin.ToString());

        var named = await harness.RunAsync([Pipeline("acme")], ["explain"]);
        await Assert.That(named.Output).Contains("project: acme (named by [Pipeline(Project=…)])").Because(named.ToString());
    }

    private static async Task Commit(string repo, string message, CancellationToken cancellationToken) =>
        await Git(repo, cancellationToken, "commit", "-q", "--allow-empty", "-m", message);

    private static async Task<string> RootOf(string repo, CancellationToken cancellationToken)
    {
        var (code, output) = await Exec.RunAsync("git", ["rev-list", "--max-parents=0", "HEAD"], repo, cancellationToken);
        await Assert.That(code).IsEqualTo(0).Because(output);
        return output.Trim();
    }

    private static async Task Git(string directory, CancellationToken cancellationToken, params string[] args)
    {
        var (code, output) = await Exec.RunAsync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", .. args], directory, cancellationToken);
        await Assert.That(code == 0).IsTrue().Because($"git {string.Join(' ', args)}: {output}");
    }
}
