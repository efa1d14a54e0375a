using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Tests;

public sealed class CacheKeyTests
{
    [Fact]
    public void Key_is_sha256_of_the_nul_separated_design_preimage()
    {
        var key = new CacheKey("origin:github.com/acme/app", "ci", "build", Parent: null, Definition: "d", Policy: "forever-x");

        var preimage = "harmont-key-v1\0origin:github.com/acme/app\0ci\0build\0scratch\0d\0forever-x\0";
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(preimage))), key.Value);
        Assert.Matches("^[0-9a-f]{64}$", key.Value);
    }

    [Fact]
    public void Every_component_changes_the_key()
    {
        var baseline = new CacheKey("p", "ci", "build", "parent", "def", "pol");
        CacheKey[] variants =
        [
            baseline with { Project = "p2" },
            baseline with { Pipeline = "ci2" },
            baseline with { Step = "build2" },
            baseline with { Parent = "parent2" },
            baseline with { Parent = null },
            baseline with { Definition = "def2" },
            baseline with { Policy = "pol2" },
        ];

        Assert.Equal(variants.Length + 1, variants.Select(v => v.Value).Append(baseline.Value).Distinct().Count());
    }

    [Fact]
    public void Components_cannot_be_shifted_into_each_other()
    {
        // Without separators "ab"+"c" and "a"+"bc" would collide.
        Assert.NotEqual(new CacheKey("ab", "c", "s", null, "d", "p").Value, new CacheKey("a", "bc", "s", null, "d", "p").Value);
    }

    [Theory]
    [InlineData("git@github.com:Acme/App.git", "github.com/acme/app")]
    [InlineData("ssh://git@github.com/Acme/App", "github.com/acme/app")]
    [InlineData("ssh://git@github.com:22/Acme/App.git", "github.com/acme/app")]
    [InlineData("https://user:token@github.com/Acme/App.git/", "github.com/acme/app")]
    [InlineData("https://github.com:443/acme/app", "github.com/acme/app")]
    [InlineData("https://gitlab.example.com:8443/group/sub/app.git", "gitlab.example.com:8443/group/sub/app")]
    public void Remote_urls_of_one_repository_normalise_alike_and_drop_credentials(string url, string expected) =>
        Assert.Equal(expected, ProjectIdentity.NormaliseRemote(url));

    [Fact]
    public async Task Project_is_the_explicit_name_else_origin_else_the_root_path()
    {
        var dir = Directory.CreateTempSubdirectory("harmont-project-").FullName;
        try
        {
            var cancel = TestContext.Current.CancellationToken;
            Assert.Equal("name:acme", await ProjectIdentity.ResolveAsync("acme", dir, cancel));
            Assert.Equal($"path:{dir}", await ProjectIdentity.ResolveAsync(null, dir, cancel));

            await Exec.RunAsync("git", ["init", "-q"], dir, cancel);
            await Exec.RunAsync("git", ["remote", "add", "origin", "git@github.com:Acme/App.git"], dir, cancel);
            Assert.Equal("origin:github.com/acme/app", await ProjectIdentity.ResolveAsync(null, dir, cancel));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
