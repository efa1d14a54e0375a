using Harmont.Aot.Keys;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(GlobTests))]
public sealed class GlobTests
{
    [Test]
    // Literals, case-sensitive and ordinal.
    [Arguments("a.txt", "a.txt", true)]
    [Arguments("a.txt", "A.txt", false)]
    [Arguments("src/a.cs", "src/a.cs", true)]
    [Arguments("src/a.cs", "src/a.csx", false)]
    [Arguments("src/a.cs", "src", false)]
    // '*' stays within one segment, matches the empty run and dotfiles.
    [Arguments("*", "a", true)]
    [Arguments("*", ".editorconfig", true)]
    [Arguments("*.cs", ".cs", true)]
    [Arguments("*.cs", "a.cs", true)]
    [Arguments("*.cs", "a.cs.bak", false)]
    [Arguments("a*b*c", "abc", true)]
    [Arguments("a*b*c", "axxbyybzc", true)]
    [Arguments("a*b*c", "axxbyy", false)]
    [Arguments("a*b*c", "axxcyyb", false)]
    [Arguments("src/*.cs", "src/a.cs", true)]
    [Arguments("src/*.cs", "src/x/a.cs", false)]
    [Arguments("src/*", "src/.hidden", true)]
    [Arguments("*/a.cs", "x/a.cs", true)]
    [Arguments("*/a.cs", "x/y/a.cs", false)]
    // Root only: no '/' means the root level.
    [Arguments("*.csproj", "a.csproj", true)]
    [Arguments("*.csproj", "x/a.csproj", false)]
    [Arguments("Makefile", "Makefile", true)]
    [Arguments("Makefile", "sub/Makefile", false)]
    // '?' is exactly one character, never '/'.
    [Arguments("?.cs", "a.cs", true)]
    [Arguments("?.cs", ".cs", false)]
    [Arguments("?.cs", "ab.cs", false)]
    [Arguments("a?b", "a/b", false)]
    [Arguments("??", ".a", true)]
    // Classes, ranges, literal '-', negation.
    [Arguments("[abc].cs", "b.cs", true)]
    [Arguments("[abc].cs", "d.cs", false)]
    [Arguments("f[0-9].txt", "f7.txt", true)]
    [Arguments("f[0-9].txt", "fx.txt", false)]
    [Arguments("f[a-cx-z]", "fy", true)]
    [Arguments("f[a-cx-z]", "fd", false)]
    [Arguments("f[-a]", "f-", true)]
    [Arguments("f[a-]", "f-", true)]
    [Arguments("f[a-]", "fb", false)]
    [Arguments("f[!0-9].txt", "fx.txt", true)]
    [Arguments("f[!0-9].txt", "f7.txt", false)]
    [Arguments("[!.]*", ".hidden", false)]
    [Arguments("[!.]*", "visible", true)]
    [Arguments("f[!a]", "f", false)]
    [Arguments("*[0-9]", "v10", true)]
    // Braces: alternatives, with '/' and wildcards inside, several per pattern.
    [Arguments("{a,b}.cs", "a.cs", true)]
    [Arguments("{a,b}.cs", "b.cs", true)]
    [Arguments("{a,b}.cs", "c.cs", false)]
    [Arguments("*.{cs,csproj}", "x.csproj", true)]
    [Arguments("*.{cs,csproj}", "x.props", false)]
    [Arguments("{src,test}/**", "test/x/y.cs", true)]
    [Arguments("{src,test}/**", "docs/x.md", false)]
    [Arguments("{src/*.cs,*.sln}", "src/a.cs", true)]
    [Arguments("{src/*.cs,*.sln}", "a.sln", true)]
    [Arguments("{src/*.cs,*.sln}", "x/a.sln", false)]
    [Arguments("{a,b}/{c,d}", "b/c", true)]
    [Arguments("{a,b}/{c,d}", "b/e", false)]
    [Arguments("x{,.bak}", "x", true)]
    [Arguments("x{,.bak}", "x.bak", true)]
    // Inside a class, braces and commas are plain members.
    [Arguments("[{,}]", ",", true)]
    [Arguments("[{,}]", "{", true)]
    [Arguments("[{,}]", "x", false)]
    [Arguments("{a,[,]}.txt", "[.txt", false)]
    [Arguments("{a,[,]}.txt", ",.txt", true)]
    [Arguments("{a,[,]}.txt", "a.txt", true)]
    // '**' at the start: any depth, zero included.
    [Arguments("**", "a", true)]
    [Arguments("**", "a/b/c", true)]
    [Arguments("**", ".git/config", true)]
    [Arguments("**/*.cs", "a.cs", true)]
    [Arguments("**/*.cs", "x/y/a.cs", true)]
    [Arguments("**/*.cs", "x/y/a.txt", false)]
    [Arguments("**/obj", "obj", true)]
    [Arguments("**/obj", "a/b/obj", true)]
    [Arguments("**/obj", "a/obj/x", false)]
    // '**' in the middle: zero or more whole segments.
    [Arguments("src/**/a.cs", "src/a.cs", true)]
    [Arguments("src/**/a.cs", "src/x/a.cs", true)]
    [Arguments("src/**/a.cs", "src/x/y/z/a.cs", true)]
    [Arguments("src/**/a.cs", "src/x/y/z/b.cs", false)]
    [Arguments("src/**/a.cs", "other/src/a.cs", false)]
    [Arguments("a/**/b/**/c", "a/b/c", true)]
    [Arguments("a/**/b/**/c", "a/x/b/y/z/c", true)]
    [Arguments("a/**/b/**/c", "a/x/b/y/z/d", false)]
    [Arguments("a/**/b", "a/b/b/b", true)]
    [Arguments("a/**/b", "a/b/b/c", false)]
    // '**' at the end: everything inside the directory, not the directory name itself.
    [Arguments("src/**", "src/a", true)]
    [Arguments("src/**", "src/x/y/a", true)]
    [Arguments("src/**", "src/.hidden/a", true)]
    [Arguments("src/**", "src", false)]
    [Arguments("src/**", "srcx/a", false)]
    [Arguments("src/**", "x/src/a", false)]
    [Arguments("**/bin/**", "a/bin/x", true)]
    [Arguments("**/bin/**", "bin/x/y", true)]
    [Arguments("**/bin/**", "a/bin", false)]
    public async Task Matches_per_the_documented_semantics(string pattern, string path, bool expected) =>
        await Assert.That(new Glob(pattern).IsMatch(path)).IsEqualTo(expected);

    [Test]
    [Arguments("")]
    [Arguments("   ")]
    [Arguments("/abs/**")]
    [Arguments("C:/x")]
    [Arguments("src\\a.cs")]
    [Arguments("src//a.cs")]
    [Arguments("src/")]
    [Arguments("./src")]
    [Arguments("src/../x")]
    [Arguments("src/**.cs")]
    [Arguments("a**/b")]
    [Arguments("[abc")]
    [Arguments("{a,b")]
    [Arguments("a]")]
    [Arguments("a}")]
    [Arguments("{a,{b,c}}")]
    [Arguments("[[a]]")]
    public async Task Invalid_patterns_throw_with_the_syntax_checkers_message(string pattern)
    {
        var problem = GlobSyntax.CheckGlob(pattern);
        await Assert.That(problem).IsNotNull();

        var error = (await Assert.That(() => new Glob(pattern)).ThrowsExactly<ArgumentException>())!;
        await Assert.That(error.Message).Contains(problem, StringComparison.Ordinal);
        await Assert.That(error.Message).Contains($"\"{pattern}\"", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("**")]
    [Arguments("src/**/*.{cs,csproj}")]
    [Arguments("f[!0-9]?.txt")]
    [Arguments("Makefile")]
    [Arguments("[{]x")]
    public async Task Valid_patterns_pass_the_syntax_check_and_keep_their_text(string pattern)
    {
        await Assert.That(GlobSyntax.CheckGlob(pattern)).IsNull();
        await Assert.That(new Glob(pattern).Pattern).IsEqualTo(pattern);
        await Assert.That(new Glob(pattern).ToString()).IsEqualTo(pattern);
    }

    [Test]
    public async Task Backtracking_stays_fast_on_adversarial_input()
    {
        var glob = new Glob("**/a*a*a*a*a*a*a*a*b");
        var path = string.Join('/', Enumerable.Repeat(new string('a', 60), 40));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.That(glob.IsMatch(path)).IsFalse();
        await Assert.That(watch.Elapsed < TimeSpan.FromSeconds(1)).IsTrue().Because($"took {watch.Elapsed}");
    }
}
