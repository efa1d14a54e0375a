using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[SupportedOSPlatform("linux")]
[NotInParallel(nameof(SourceHashesTests))]
public sealed class SourceHashesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-srchash-").FullName;
    private readonly string _state = Directory.CreateTempSubdirectory("harmont-srchash-memo-").FullName;

    private string MemoPath => Path.Combine(_state, "hashes.bin");

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_state, recursive: true);
    }

    [Test]
    public async Task Resolution_is_sha_of_each_sorted_globs_sorted_matches_and_their_hashes(CancellationToken cancellationToken)
    {
        Write("a.txt", "alpha");
        Write("z.txt", "zulu");
        Write("src/a.cs", "class A {}");
        Write("src/B.cs", "class B {}"); // Ordinal: "B" sorts before "a".
        Write("src/deep/c.cs", "class C {}");
        Write("docs/readme.md", "unmatched");

        // Given unsorted; "src/a.cs" is matched by two globs and so appears twice in the preimage.
        string[] globs = ["src/**", "*.txt", "**/*.cs"];
        var resolved = await Hashes().ResolveAsync("build", globs, cancellationToken);

        var preimage = new StringBuilder();
        foreach (var group in new[]
        {
            new[] { "src/B.cs", "src/a.cs", "src/deep/c.cs" }, // "**/*.cs"
            ["a.txt", "z.txt"], // "*.txt"
            ["src/B.cs", "src/a.cs", "src/deep/c.cs"], // "src/**"
        })
        {
            foreach (var path in group)
            {
                preimage.Append(path).Append('\0').Append(Sha(File.ReadAllBytes(Full(path)))).Append('\0');
            }
        }

        await Assert.That(resolved.Resolution).IsEqualTo("sha-" + Sha(Encoding.UTF8.GetBytes(preimage.ToString())));
        await Assert.That(resolved.Resolution).Matches("^sha-[0-9a-f]{64}$");
        await Assert.That(resolved.Files.Keys.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["a.txt", "src/B.cs", "src/a.cs", "src/deep/c.cs", "z.txt"], CollectionOrdering.Matching);
        foreach (var f in resolved.Files)
        {
            await Assert.That(f.Value).IsEqualTo(Sha(File.ReadAllBytes(Full(f.Key))));
        }
    }

    [Test]
    public async Task Glob_order_in_the_policy_does_not_change_the_resolution(CancellationToken cancellationToken)
    {
        Write("a.txt", "a");
        Write("src/b.cs", "b");

        var one = await Hashes().ResolveAsync("build", ["src/**", "*.txt"], cancellationToken);
        var other = await Hashes().ResolveAsync("build", ["*.txt", "src/**"], cancellationToken);

        await Assert.That(other.Resolution).IsEqualTo(one.Resolution);
    }

    [Test]
    public async Task A_glob_matching_nothing_is_an_error_naming_the_glob_and_the_step(CancellationToken cancellationToken)
    {
        Write("src/a.cs", "a");

        var error = (await Assert.That(async () => await Hashes().ResolveAsync("compile-api", ["src/**", "*.csproj"], cancellationToken))
            .ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains("\"*.csproj\"", StringComparison.Ordinal);
        await Assert.That(error.Message).Contains("'compile-api'", StringComparison.Ordinal);
    }

    [Test]
    public async Task An_invalid_glob_is_a_pipeline_error_naming_the_step_and_the_problem(CancellationToken cancellationToken)
    {
        Write("a.txt", "a");

        var error = (await Assert.That(async () => await Hashes().ResolveAsync("lint", ["src/**.cs"], cancellationToken)).ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains("'lint'", StringComparison.Ordinal);
        await Assert.That(error.Message).Contains(GlobSyntax.CheckGlob("src/**.cs")!, StringComparison.Ordinal);
    }

    [Test]
    public async Task Editing_a_matched_file_changes_the_resolution_and_an_unmatched_one_does_not(CancellationToken cancellationToken)
    {
        Write("src/a.cs", "one");
        Write("docs/readme.md", "one");
        string[] globs = ["src/**"];
        var memo = FileHashMemo.Load(MemoPath);

        var before = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, cancellationToken);

        Write("docs/readme.md", "two");
        var afterUnmatched = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, cancellationToken);
        await Assert.That(afterUnmatched.Resolution).IsEqualTo(before.Resolution);

        Write("src/a.cs", "two"); // Same size, new bytes.
        var afterMatched = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, cancellationToken);
        await Assert.That(afterMatched.Resolution).IsNotEqualTo(before.Resolution);
        await Assert.That(afterMatched.Files["src/a.cs"]).IsEqualTo(Sha("two"u8.ToArray()));
    }

    [Test]
    public async Task Adding_a_matching_file_changes_the_resolution(CancellationToken cancellationToken)
    {
        Write("src/a.cs", "a");
        var before = await Hashes().ResolveAsync("build", ["src/**"], cancellationToken);

        Write("src/b.cs", "");
        var after = await Hashes().ResolveAsync("build", ["src/**"], cancellationToken);

        await Assert.That(after.Resolution).IsNotEqualTo(before.Resolution);
    }

    [Test]
    public async Task A_saved_memo_spares_the_next_run_reading_unchanged_files(CancellationToken cancellationToken)
    {
        Write("a.txt", "alpha");
        Write("src/b.cs", "bravo");
        Write("src/c.cs", "charlie");

        // The memo refuses files changed within FileHashMemo.RacyWindow of hashing, and ctime cannot be set back: wait it out once.
        await Task.Delay(FileHashMemo.RacyWindow + TimeSpan.FromMilliseconds(200), cancellationToken);

        var first = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        var cold = await first.ResolveAsync("build", ["**"], cancellationToken);
        await Assert.That(first.FilesRead).IsEqualTo(3);
        var memo = FileHashMemo.Load(MemoPath);
        await Assert.That(memo.Count).IsEqualTo(0); // Nothing saved yet.

        var second = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        await second.ResolveAsync("build", ["**"], cancellationToken);
        await Assert.That(second.FilesRead).IsEqualTo(3);

        // Now save, as the run does at its end, and start over from disk.
        var saving = FileHashMemo.Load(MemoPath);
        var third = new SourceHashes(_root, List(), saving);
        await third.ResolveAsync("build", ["**"], cancellationToken);
        saving.Save();
        await Assert.That(File.Exists(MemoPath)).IsTrue();

        var loaded = FileHashMemo.Load(MemoPath);
        await Assert.That(loaded.Count).IsEqualTo(3);
        var warm = new SourceHashes(_root, List(), loaded);
        var warmResolution = await warm.ResolveAsync("build", ["**"], cancellationToken);
        await Assert.That(warm.FilesRead).IsEqualTo(0);
        await Assert.That(warmResolution.Resolution).IsEqualTo(cold.Resolution);
        await Assert.That(warmResolution.Files).IsEquivalentTo(cold.Files, CollectionOrdering.Any);

        // A changed file is read again (its ctime moved), the others still come from the memo.
        Write("src/b.cs", "BRAVO");
        var edited = new SourceHashes(_root, List(), loaded);
        var editedResolution = await edited.ResolveAsync("build", ["**"], cancellationToken);
        await Assert.That(edited.FilesRead).IsEqualTo(1);
        await Assert.That(editedResolution.Resolution).IsNotEqualTo(cold.Resolution);
        await Assert.That(editedResolution.Files["src/b.cs"]).IsEqualTo(Sha("BRAVO"u8.ToArray()));
    }

    [Test]
    public async Task Fresh_files_are_not_memoised_across_runs(CancellationToken cancellationToken)
    {
        Write("a.txt", "alpha");
        Write("b.txt", "bravo");

        var memo = FileHashMemo.Load(MemoPath);
        var first = new SourceHashes(_root, List(), memo);
        await first.ResolveAsync("build", ["*.txt"], cancellationToken);
        memo.Save();

        var again = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        await again.ResolveAsync("build", ["*.txt"], cancellationToken);

        await Assert.That(first.FilesRead).IsEqualTo(2);
        await Assert.That(again.FilesRead).IsEqualTo(2);
        await Assert.That(File.Exists(MemoPath)).IsFalse(); // Nothing was added, so nothing was written.
    }

    [Test]
    public async Task Within_one_run_each_file_is_read_once_however_many_steps_share_it(CancellationToken cancellationToken)
    {
        Write("src/a.cs", "a");
        Write("src/b.cs", "b");
        var hashes = Hashes();

        await hashes.ResolveAsync("one", ["src/**"], cancellationToken);
        await hashes.ResolveAsync("two", ["**/*.cs", "src/a.cs"], cancellationToken);

        await Assert.That(hashes.FilesRead).IsEqualTo(2);
    }

    [Test]
    public async Task A_symlink_hashes_its_target_text_not_the_file_it_points_to(CancellationToken cancellationToken)
    {
        Write("real.txt", "content");
        File.CreateSymbolicLink(Full("link.txt"), "real.txt");
        File.CreateSymbolicLink(Full("dangling.txt"), "nowhere/at/all");

        var resolved = await Hashes().ResolveAsync("build", ["*.txt"], cancellationToken);

        await Assert.That(resolved.Files["link.txt"]).IsEqualTo(Sha("real.txt"u8.ToArray()));
        await Assert.That(resolved.Files["dangling.txt"]).IsEqualTo(Sha("nowhere/at/all"u8.ToArray()));
        await Assert.That(resolved.Files["real.txt"]).IsEqualTo(Sha("content"u8.ToArray()));
    }

    [Test]
    public async Task Directory_entries_in_the_listing_are_skipped(CancellationToken cancellationToken)
    {
        Write("a.txt", "a");
        Write("src/b.cs", "b");
        Directory.CreateDirectory(Full("empty"));

        var listing = List();
        await Assert.That(listing).Contains("src");
        await Assert.That(listing).Contains("empty");

        var resolved = await Hashes(listing).ResolveAsync("build", ["*"], cancellationToken);
        await Assert.That(resolved.Files.Keys).IsEquivalentTo((IEnumerable<string>)["a.txt"], CollectionOrdering.Matching);

        var all = await Hashes(listing).ResolveAsync("build", ["**"], cancellationToken);
        await Assert.That(all.Files.Keys.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["a.txt", "src/b.cs"], CollectionOrdering.Matching);

        // A glob that matches only directories matches no file.
        await Assert.That(async () => await Hashes(listing).ResolveAsync("build", ["empty"], cancellationToken)).ThrowsExactly<PipelineException>();
    }

    [Test]
    public async Task Match_returns_the_listings_files_in_ordinal_order()
    {
        Write("b.cs", "");
        Write("B.cs", "");
        Write("a.cs", "");
        Write("sub/a.cs", "");

        await Assert.That(Hashes().Match("s", "*.cs")).IsEquivalentTo((IEnumerable<string>)["B.cs", "a.cs", "b.cs"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_file_that_vanished_since_the_listing_is_an_io_error(CancellationToken cancellationToken)
    {
        Write("a.txt", "a");
        var listing = List();
        File.Delete(Full("a.txt"));

        var error = (await Assert.That(async () => await Hashes(listing).HashAsync(["a.txt"], cancellationToken)).ThrowsExactly<IOException>())!;
        await Assert.That(error.Message).Contains("a.txt", StringComparison.Ordinal);
    }

    private SourceHashes Hashes(IReadOnlyList<string>? listing = null) =>
        new(_root, listing ?? List(), FileHashMemo.Load(MemoPath));

    /// <summary>Every entry under the root, directories included, as SourceTree lists them: relative, '/'-separated.</summary>
    private List<string> List() =>
        [.. Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_root, p).Replace('\\', '/'))];

    private string Full(string relative) => Path.Combine(_root, relative);

    private void Write(string relative, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Full(relative))!);
        File.WriteAllText(Full(relative), text);
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
