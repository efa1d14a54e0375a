using Harmont.Aot.Keys;
using Harmont.Aot.Tuning;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>Narrowing a glob keeps exactly the files outside the groups that held irrelevant changes.</summary>
[NotInParallel(nameof(GlobNarrowingTests))]
public sealed class GlobNarrowingTests
{
    private static readonly string[] Files = ["Makefile", "src/a.c", "src/lib/b.c", "docs/guide.md", "docs/img/x.png", "tests/t.c"];

    [Test]
    public async Task Everything_but_the_docs_group_stays_matched()
    {
        var (kept, dropped) = GlobNarrowing.Narrow("**", Files, new HashSet<string> { "docs/guide.md" })!.Value;

        await Assert.That(kept).IsEquivalentTo((IEnumerable<string>)["Makefile", "src/**", "tests/**"], CollectionOrdering.Matching);
        await Assert.That(dropped).IsEquivalentTo((IEnumerable<string>)["docs/**"], CollectionOrdering.Matching);
        var globs = kept.Select(g => new Glob(g)).ToList();
        await Assert.That(Files.Where(f => globs.Exists(g => g.IsMatch(f))))
            .IsEquivalentTo((IEnumerable<string>)["Makefile", "src/a.c", "src/lib/b.c", "tests/t.c"], CollectionOrdering.Any);
    }

    [Test]
    public async Task A_glob_under_a_directory_keeps_its_suffix()
    {
        string[] files = ["src/app/a.cs", "src/app/b.md", "src/gen/c.cs", "src/top.cs"];

        var (kept, _) = GlobNarrowing.Narrow("src/**/*.cs", files, new HashSet<string> { "src/gen/c.cs" })!.Value;

        await Assert.That(kept).IsEquivalentTo((IEnumerable<string>)["src/app/**/*.cs", "src/top.cs"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_glob_that_cannot_be_split_below_its_prefix_is_left_alone()
    {
        await Assert.That(GlobNarrowing.Narrow("src/*.c", ["src/a.c", "src/b.c"], new HashSet<string> { "src/a.c" })).IsNull();
        await Assert.That(GlobNarrowing.Narrow("**", ["docs/a.md"], new HashSet<string> { "docs/a.md" })).IsNull();
    }
}
