using Harmont.Aot.Keys;

namespace Harmont.Aot.Tests;

public sealed class GlobTests
{
    [Theory]
    // Literals, case-sensitive and ordinal.
    [InlineData("a.txt", "a.txt", true)]
    [InlineData("a.txt", "A.txt", false)]
    [InlineData("src/a.cs", "src/a.cs", true)]
    [InlineData("src/a.cs", "src/a.csx", false)]
    [InlineData("src/a.cs", "src", false)]
    // '*' stays within one segment, matches the empty run and dotfiles.
    [InlineData("*", "a", true)]
    [InlineData("*", ".editorconfig", true)]
    [InlineData("*.cs", ".cs", true)]
    [InlineData("*.cs", "a.cs", true)]
    [InlineData("*.cs", "a.cs.bak", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "axxbyybzc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("a*b*c", "axxcyyb", false)]
    [InlineData("src/*.cs", "src/a.cs", true)]
    [InlineData("src/*.cs", "src/x/a.cs", false)]
    [InlineData("src/*", "src/.hidden", true)]
    [InlineData("*/a.cs", "x/a.cs", true)]
    [InlineData("*/a.cs", "x/y/a.cs", false)]
    // Root only: no '/' means the root level.
    [InlineData("*.csproj", "a.csproj", true)]
    [InlineData("*.csproj", "x/a.csproj", false)]
    [InlineData("Makefile", "Makefile", true)]
    [InlineData("Makefile", "sub/Makefile", false)]
    // '?' is exactly one character, never '/'.
    [InlineData("?.cs", "a.cs", true)]
    [InlineData("?.cs", ".cs", false)]
    [InlineData("?.cs", "ab.cs", false)]
    [InlineData("a?b", "a/b", false)]
    [InlineData("??", ".a", true)]
    // Classes, ranges, literal '-', negation.
    [InlineData("[abc].cs", "b.cs", true)]
    [InlineData("[abc].cs", "d.cs", false)]
    [InlineData("f[0-9].txt", "f7.txt", true)]
    [InlineData("f[0-9].txt", "fx.txt", false)]
    [InlineData("f[a-cx-z]", "fy", true)]
    [InlineData("f[a-cx-z]", "fd", false)]
    [InlineData("f[-a]", "f-", true)]
    [InlineData("f[a-]", "f-", true)]
    [InlineData("f[a-]", "fb", false)]
    [InlineData("f[!0-9].txt", "fx.txt", true)]
    [InlineData("f[!0-9].txt", "f7.txt", false)]
    [InlineData("[!.]*", ".hidden", false)]
    [InlineData("[!.]*", "visible", true)]
    [InlineData("f[!a]", "f", false)]
    [InlineData("*[0-9]", "v10", true)]
    // Braces: alternatives, with '/' and wildcards inside, several per pattern.
    [InlineData("{a,b}.cs", "a.cs", true)]
    [InlineData("{a,b}.cs", "b.cs", true)]
    [InlineData("{a,b}.cs", "c.cs", false)]
    [InlineData("*.{cs,csproj}", "x.csproj", true)]
    [InlineData("*.{cs,csproj}", "x.props", false)]
    [InlineData("{src,test}/**", "test/x/y.cs", true)]
    [InlineData("{src,test}/**", "docs/x.md", false)]
    [InlineData("{src/*.cs,*.sln}", "src/a.cs", true)]
    [InlineData("{src/*.cs,*.sln}", "a.sln", true)]
    [InlineData("{src/*.cs,*.sln}", "x/a.sln", false)]
    [InlineData("{a,b}/{c,d}", "b/c", true)]
    [InlineData("{a,b}/{c,d}", "b/e", false)]
    [InlineData("x{,.bak}", "x", true)]
    [InlineData("x{,.bak}", "x.bak", true)]
    // Inside a class, braces and commas are plain members.
    [InlineData("[{,}]", ",", true)]
    [InlineData("[{,}]", "{", true)]
    [InlineData("[{,}]", "x", false)]
    [InlineData("{a,[,]}.txt", "[.txt", false)]
    [InlineData("{a,[,]}.txt", ",.txt", true)]
    [InlineData("{a,[,]}.txt", "a.txt", true)]
    // '**' at the start: any depth, zero included.
    [InlineData("**", "a", true)]
    [InlineData("**", "a/b/c", true)]
    [InlineData("**", ".git/config", true)]
    [InlineData("**/*.cs", "a.cs", true)]
    [InlineData("**/*.cs", "x/y/a.cs", true)]
    [InlineData("**/*.cs", "x/y/a.txt", false)]
    [InlineData("**/obj", "obj", true)]
    [InlineData("**/obj", "a/b/obj", true)]
    [InlineData("**/obj", "a/obj/x", false)]
    // '**' in the middle: zero or more whole segments.
    [InlineData("src/**/a.cs", "src/a.cs", true)]
    [InlineData("src/**/a.cs", "src/x/a.cs", true)]
    [InlineData("src/**/a.cs", "src/x/y/z/a.cs", true)]
    [InlineData("src/**/a.cs", "src/x/y/z/b.cs", false)]
    [InlineData("src/**/a.cs", "other/src/a.cs", false)]
    [InlineData("a/**/b/**/c", "a/b/c", true)]
    [InlineData("a/**/b/**/c", "a/x/b/y/z/c", true)]
    [InlineData("a/**/b/**/c", "a/x/b/y/z/d", false)]
    [InlineData("a/**/b", "a/b/b/b", true)]
    [InlineData("a/**/b", "a/b/b/c", false)]
    // '**' at the end: everything inside the directory, not the directory name itself.
    [InlineData("src/**", "src/a", true)]
    [InlineData("src/**", "src/x/y/a", true)]
    [InlineData("src/**", "src/.hidden/a", true)]
    [InlineData("src/**", "src", false)]
    [InlineData("src/**", "srcx/a", false)]
    [InlineData("src/**", "x/src/a", false)]
    [InlineData("**/bin/**", "a/bin/x", true)]
    [InlineData("**/bin/**", "bin/x/y", true)]
    [InlineData("**/bin/**", "a/bin", false)]
    public void Matches_per_the_documented_semantics(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("/abs/**")]
    [InlineData("C:/x")]
    [InlineData("src\\a.cs")]
    [InlineData("src//a.cs")]
    [InlineData("src/")]
    [InlineData("./src")]
    [InlineData("src/../x")]
    [InlineData("src/**.cs")]
    [InlineData("a**/b")]
    [InlineData("[abc")]
    [InlineData("{a,b")]
    [InlineData("a]")]
    [InlineData("a}")]
    [InlineData("{a,{b,c}}")]
    [InlineData("[[a]]")]
    public void Invalid_patterns_throw_with_the_syntax_checkers_message(string pattern)
    {
        var problem = GlobSyntax.CheckGlob(pattern);
        Assert.NotNull(problem);

        var error = Assert.Throws<ArgumentException>(() => new Glob(pattern));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{pattern}\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("**")]
    [InlineData("src/**/*.{cs,csproj}")]
    [InlineData("f[!0-9]?.txt")]
    [InlineData("Makefile")]
    [InlineData("[{]x")]
    public void Valid_patterns_pass_the_syntax_check_and_keep_their_text(string pattern)
    {
        Assert.Null(GlobSyntax.CheckGlob(pattern));
        Assert.Equal(pattern, new Glob(pattern).Pattern);
        Assert.Equal(pattern, new Glob(pattern).ToString());
    }

    [Fact]
    public void Backtracking_stays_fast_on_adversarial_input()
    {
        var glob = new Glob("**/a*a*a*a*a*a*a*a*b");
        var path = string.Join('/', Enumerable.Repeat(new string('a', 60), 40));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(glob.IsMatch(path));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }
}
