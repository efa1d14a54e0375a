using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

[SupportedOSPlatform("linux")]
public sealed class SourceHashesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-srchash-").FullName;
    private readonly string _state = Directory.CreateTempSubdirectory("harmont-srchash-memo-").FullName;

    private string MemoPath => Path.Combine(_state, "hashes.bin");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Resolution_is_sha_of_each_sorted_globs_sorted_matches_and_their_hashes()
    {
        Write("a.txt", "alpha");
        Write("z.txt", "zulu");
        Write("src/a.cs", "class A {}");
        Write("src/B.cs", "class B {}"); // Ordinal: "B" sorts before "a".
        Write("src/deep/c.cs", "class C {}");
        Write("docs/readme.md", "unmatched");

        // Given unsorted; "src/a.cs" is matched by two globs and so appears twice in the preimage.
        string[] globs = ["src/**", "*.txt", "**/*.cs"];
        var resolved = await Hashes().ResolveAsync("build", globs, Cancel);

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

        Assert.Equal("sha-" + Sha(Encoding.UTF8.GetBytes(preimage.ToString())), resolved.Resolution);
        Assert.Matches("^sha-[0-9a-f]{64}$", resolved.Resolution);
        Assert.Equal(
            ["a.txt", "src/B.cs", "src/a.cs", "src/deep/c.cs", "z.txt"],
            resolved.Files.Keys.Order(StringComparer.Ordinal));
        Assert.All(resolved.Files, f => Assert.Equal(Sha(File.ReadAllBytes(Full(f.Key))), f.Value));
    }

    [Fact]
    public async Task Glob_order_in_the_policy_does_not_change_the_resolution()
    {
        Write("a.txt", "a");
        Write("src/b.cs", "b");

        var one = await Hashes().ResolveAsync("build", ["src/**", "*.txt"], Cancel);
        var other = await Hashes().ResolveAsync("build", ["*.txt", "src/**"], Cancel);

        Assert.Equal(one.Resolution, other.Resolution);
    }

    [Fact]
    public async Task A_glob_matching_nothing_is_an_error_naming_the_glob_and_the_step()
    {
        Write("src/a.cs", "a");

        var error = await Assert.ThrowsAsync<PipelineException>(
            () => Hashes().ResolveAsync("compile-api", ["src/**", "*.csproj"], Cancel));

        Assert.Contains("\"*.csproj\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("'compile-api'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_glob_is_a_pipeline_error_naming_the_step_and_the_problem()
    {
        Write("a.txt", "a");

        var error = await Assert.ThrowsAsync<PipelineException>(() => Hashes().ResolveAsync("lint", ["src/**.cs"], Cancel));

        Assert.Contains("'lint'", error.Message, StringComparison.Ordinal);
        Assert.Contains(GlobSyntax.CheckGlob("src/**.cs")!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Editing_a_matched_file_changes_the_resolution_and_an_unmatched_one_does_not()
    {
        Write("src/a.cs", "one");
        Write("docs/readme.md", "one");
        string[] globs = ["src/**"];
        var memo = FileHashMemo.Load(MemoPath);

        var before = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, Cancel);

        Write("docs/readme.md", "two");
        var afterUnmatched = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, Cancel);
        Assert.Equal(before.Resolution, afterUnmatched.Resolution);

        Write("src/a.cs", "two"); // Same size, new bytes.
        var afterMatched = await new SourceHashes(_root, List(), memo).ResolveAsync("build", globs, Cancel);
        Assert.NotEqual(before.Resolution, afterMatched.Resolution);
        Assert.Equal(Sha("two"u8.ToArray()), afterMatched.Files["src/a.cs"]);
    }

    [Fact]
    public async Task Adding_a_matching_file_changes_the_resolution()
    {
        Write("src/a.cs", "a");
        var before = await Hashes().ResolveAsync("build", ["src/**"], Cancel);

        Write("src/b.cs", "");
        var after = await Hashes().ResolveAsync("build", ["src/**"], Cancel);

        Assert.NotEqual(before.Resolution, after.Resolution);
    }

    [Fact]
    public async Task A_saved_memo_spares_the_next_run_reading_unchanged_files()
    {
        Write("a.txt", "alpha");
        Write("src/b.cs", "bravo");
        Write("src/c.cs", "charlie");

        // The memo refuses files changed within FileHashMemo.RacyWindow of hashing, and ctime cannot be set back: wait it out once.
        await Task.Delay(FileHashMemo.RacyWindow + TimeSpan.FromMilliseconds(200), Cancel);

        var first = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        var cold = await first.ResolveAsync("build", ["**"], Cancel);
        Assert.Equal(3, first.FilesRead);
        var memo = FileHashMemo.Load(MemoPath);
        Assert.Equal(0, memo.Count); // Nothing saved yet.

        var second = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        await second.ResolveAsync("build", ["**"], Cancel);
        Assert.Equal(3, second.FilesRead);

        // Now save, as the run does at its end, and start over from disk.
        var saving = FileHashMemo.Load(MemoPath);
        var third = new SourceHashes(_root, List(), saving);
        await third.ResolveAsync("build", ["**"], Cancel);
        saving.Save();
        Assert.True(File.Exists(MemoPath));

        var loaded = FileHashMemo.Load(MemoPath);
        Assert.Equal(3, loaded.Count);
        var warm = new SourceHashes(_root, List(), loaded);
        var warmResolution = await warm.ResolveAsync("build", ["**"], Cancel);
        Assert.Equal(0, warm.FilesRead);
        Assert.Equal(cold.Resolution, warmResolution.Resolution);
        Assert.Equal(cold.Files, warmResolution.Files);

        // A changed file is read again (its ctime moved), the others still come from the memo.
        Write("src/b.cs", "BRAVO");
        var edited = new SourceHashes(_root, List(), loaded);
        var editedResolution = await edited.ResolveAsync("build", ["**"], Cancel);
        Assert.Equal(1, edited.FilesRead);
        Assert.NotEqual(cold.Resolution, editedResolution.Resolution);
        Assert.Equal(Sha("BRAVO"u8.ToArray()), editedResolution.Files["src/b.cs"]);
    }

    [Fact]
    public async Task Fresh_files_are_not_memoised_across_runs()
    {
        Write("a.txt", "alpha");
        Write("b.txt", "bravo");

        var memo = FileHashMemo.Load(MemoPath);
        var first = new SourceHashes(_root, List(), memo);
        await first.ResolveAsync("build", ["*.txt"], Cancel);
        memo.Save();

        var again = new SourceHashes(_root, List(), FileHashMemo.Load(MemoPath));
        await again.ResolveAsync("build", ["*.txt"], Cancel);

        Assert.Equal(2, first.FilesRead);
        Assert.Equal(2, again.FilesRead);
        Assert.False(File.Exists(MemoPath)); // Nothing was added, so nothing was written.
    }

    [Fact]
    public async Task Within_one_run_each_file_is_read_once_however_many_steps_share_it()
    {
        Write("src/a.cs", "a");
        Write("src/b.cs", "b");
        var hashes = Hashes();

        await hashes.ResolveAsync("one", ["src/**"], Cancel);
        await hashes.ResolveAsync("two", ["**/*.cs", "src/a.cs"], Cancel);

        Assert.Equal(2, hashes.FilesRead);
    }

    [Fact]
    public async Task A_symlink_hashes_its_target_text_not_the_file_it_points_to()
    {
        Write("real.txt", "content");
        File.CreateSymbolicLink(Full("link.txt"), "real.txt");
        File.CreateSymbolicLink(Full("dangling.txt"), "nowhere/at/all");

        var resolved = await Hashes().ResolveAsync("build", ["*.txt"], Cancel);

        Assert.Equal(Sha("real.txt"u8.ToArray()), resolved.Files["link.txt"]);
        Assert.Equal(Sha("nowhere/at/all"u8.ToArray()), resolved.Files["dangling.txt"]);
        Assert.Equal(Sha("content"u8.ToArray()), resolved.Files["real.txt"]);
    }

    [Fact]
    public async Task Directory_entries_in_the_listing_are_skipped()
    {
        Write("a.txt", "a");
        Write("src/b.cs", "b");
        Directory.CreateDirectory(Full("empty"));

        var listing = List();
        Assert.Contains("src", listing);
        Assert.Contains("empty", listing);

        var resolved = await Hashes(listing).ResolveAsync("build", ["*"], Cancel);
        Assert.Equal(["a.txt"], resolved.Files.Keys);

        var all = await Hashes(listing).ResolveAsync("build", ["**"], Cancel);
        Assert.Equal(["a.txt", "src/b.cs"], all.Files.Keys.Order(StringComparer.Ordinal));

        // A glob that matches only directories matches no file.
        await Assert.ThrowsAsync<PipelineException>(() => Hashes(listing).ResolveAsync("build", ["empty"], Cancel));
    }

    [Fact]
    public void Match_returns_the_listings_files_in_ordinal_order()
    {
        Write("b.cs", "");
        Write("B.cs", "");
        Write("a.cs", "");
        Write("sub/a.cs", "");

        Assert.Equal(["B.cs", "a.cs", "b.cs"], Hashes().Match("s", "*.cs"));
    }

    [Fact]
    public async Task A_file_that_vanished_since_the_listing_is_an_io_error()
    {
        Write("a.txt", "a");
        var listing = List();
        File.Delete(Full("a.txt"));

        var error = await Assert.ThrowsAsync<IOException>(() => Hashes(listing).HashAsync(["a.txt"], Cancel));
        Assert.Contains("a.txt", error.Message, StringComparison.Ordinal);
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
