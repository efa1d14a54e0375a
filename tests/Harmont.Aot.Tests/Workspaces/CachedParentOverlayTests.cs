using System.Runtime.Versioning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// DESIGN §4.2 as a workspace operation: a child of a cache-hit parent gets the cached output with the
/// current source base overlaid. Checked for every strategy on the loop-mounted XFS.
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class CachedParentOverlayTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    public static TheoryData<string> Strategies => [.. WorkspaceStrategies.Names];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task Child_of_cached_parent_sees_current_source_and_keeps_cached_outputs(string strategy)
    {
        // The cache entry: the step's output when it was recorded, and the source files at that time.
        var cached = xfs.NewDirectory("entry");
        Trees.Write(cached, "src/app.cs", "old source");
        Trees.Write(cached, "src/removed.cs", "source file deleted since");
        Trees.Write(cached, "docs/only/old.md", "the only file of a source dir deleted since");
        Trees.Write(cached, "generated.cs", "rewritten by the cached step");
        Trees.Write(cached, "node_modules/lib/index.js", "installed");
        Trees.Write(cached, "bin/app.dll", "built");
        Trees.Write(cached, "now-a-dir", "a file that is a directory in the source now");
        string[] recorded = ["src/app.cs", "src/removed.cs", "docs/only/old.md", "generated.cs"];
        var cachedBefore = Trees.Read(cached);

        // The working tree now: an edit, a new file, two deletions, a file that became a directory.
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "src/app.cs", "new source");
        Trees.Write(source, "src/added.cs", "brand new");
        Trees.Write(source, "generated.cs", "source version");
        Trees.Write(source, "now-a-dir/inner.txt", "inner");

        var runRoot = Path.Combine(xfs.NewDirectory("work"), "run");
        await using (var workspaces = new RunWorkspaces(runRoot, source, Trees.Strategy(strategy)))
        {
            var child = await workspaces.ForCachedParentAsync("child", new string('a', 64), [cached], recorded, Ct);

            Assert.Equal(
                Trees.Expect(
                    ("src/app.cs", "new source"),
                    ("src/added.cs", "brand new"),
                    ("generated.cs", "source version"),
                    ("now-a-dir/inner.txt", "inner"),
                    ("node_modules/lib/index.js", "installed"),
                    ("bin/app.dll", "built")),
                Trees.Read(child));
            Assert.False(Directory.Exists(Path.Combine(child, "docs")), "a directory emptied by removed source files goes too");

            // The workspace is an ordinary one: it can be written and kept for children.
            Trees.Write(child, "bin/app.dll", "rebuilt");
            workspaces.KeepOutput("child", child, children: 1);
            var grandchild = await workspaces.ForChildAsync("grandchild", "child", Ct);
            Assert.Equal("rebuilt", await File.ReadAllTextAsync(Path.Combine(grandchild, "bin/app.dll"), Ct));
            Assert.Equal(
                (await workspaces.SourceFilesAsync(Ct)).Order(StringComparer.Ordinal),
                ["generated.cs", "now-a-dir/inner.txt", "src/added.cs", "src/app.cs"]);
        }

        Assert.Equal(cachedBefore, Trees.Read(cached));
        Assert.Empty(Trees.MountsUnder(runRoot));
    }

    [Fact]
    public async Task A_recorded_path_that_escapes_the_workspace_is_refused()
    {
        var cached = xfs.NewDirectory("entry");
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "a.txt", "a");
        await using var workspaces = new RunWorkspaces(Path.Combine(xfs.NewDirectory("work"), "run"), source, new CopyStrategy());

        await Assert.ThrowsAsync<InvalidDataException>(() => workspaces.ForCachedParentAsync("child", new string('a', 64), [cached], ["../outside.txt"], Ct));
    }
}
