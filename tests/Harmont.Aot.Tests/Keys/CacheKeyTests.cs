using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(CacheKeyTests))]
public sealed class CacheKeyTests
{
    [Test]
    public async Task Key_is_sha256_of_the_nul_separated_design_preimage()
    {
        var key = new CacheKey("origin:github.com/acme/app", "ci", "build", Parent: null, Definition: "d", Policy: "forever-x");

        var preimage = "harmont-key-v1\0origin:github.com/acme/app\0ci\0build\0scratch\0d\0forever-x\0";
        await Assert.That(key.Value).IsEqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(preimage))));
        await Assert.That(key.Value).Matches("^[0-9a-f]{64}$");
    }

    [Test]
    public async Task Every_component_changes_the_key()
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

        await Assert.That(variants.Select(v => v.Value).Append(baseline.Value).Distinct().Count()).IsEqualTo(variants.Length + 1);
    }

    [Test]
    public async Task Components_cannot_be_shifted_into_each_other()
    {
        // Without separators "ab"+"c" and "a"+"bc" would collide.
        await Assert.That(new CacheKey("a", "bc", "s", null, "d", "p").Value).IsNotEqualTo(new CacheKey("ab", "c", "s", null, "d", "p").Value);
    }

    [Test]
    [Arguments("git@github.com:Acme/App.git", "github.com/acme/app")]
    [Arguments("ssh://git@github.com/Acme/App", "github.com/acme/app")]
    [Arguments("ssh://git@github.com:22/Acme/App.git", "github.com/acme/app")]
    [Arguments("https://user:token@github.com/Acme/App.git/", "github.com/acme/app")]
    [Arguments("https://github.com:443/acme/app", "github.com/acme/app")]
    [Arguments("https://gitlab.example.com:8443/group/sub/app.git", "gitlab.example.com:8443/group/sub/app")]
    public async Task Remote_urls_of_one_repository_normalise_alike_and_drop_credentials(string url, string expected) =>
        await Assert.That(ProjectIdentity.NormaliseRemote(url)).IsEqualTo(expected);

    [Test]
    public async Task Project_is_the_explicit_name_else_origin_else_the_root_path(CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("harmont-project-").FullName;
        try
        {
            var cancel = cancellationToken;
            await Assert.That(await ProjectIdentity.ResolveAsync("acme", dir, cancel)).IsEqualTo("name:acme");
            await Assert.That(await ProjectIdentity.ResolveAsync(null, dir, cancel)).IsEqualTo($"path:{dir}");

            await Exec.RunAsync("git", ["init", "-q"], dir, cancel);
            await Exec.RunAsync("git", ["remote", "add", "origin", "git@github.com:Acme/App.git"], dir, cancel);
            await Assert.That(await ProjectIdentity.ResolveAsync(null, dir, cancel)).IsEqualTo("origin:github.com/acme/app");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task A_remembered_project_follows_every_change_to_the_git_configuration(CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("harmont-project-").FullName;
        var memo = Directory.CreateTempSubdirectory("harmont-project-memo-").FullName;
        var config = Path.Combine(dir, ".git", "config");
        try
        {
            await Exec.RunAsync("git", ["init", "-q"], dir, cancellationToken);
            await Exec.RunAsync("git", ["remote", "add", "origin", "https://example.com/acme/first.git"], dir, cancellationToken);
            async Task<string> ResolveAged()
            {
                // Older than two seconds, so the answer may be remembered; a config written just now never is.
                File.SetLastWriteTimeUtc(config, DateTime.UtcNow.AddMinutes(-1));
                var first = await ProjectIdentity.ResolveAsync(null, dir, cancellationToken, memo);
                var second = await ProjectIdentity.ResolveAsync(null, dir, cancellationToken, memo);
                await Assert.That(second).IsEqualTo(first);
                return first;
            }

            await Assert.That(await ResolveAged()).IsEqualTo("origin:example.com/acme/first");
            await Assert.That(File.ReadAllText(Path.Combine(memo, "project-identity"))).Contains("origin:example.com/acme/first");

            await Exec.RunAsync("git", ["remote", "set-url", "origin", "https://example.com/acme/second-name.git"], dir, cancellationToken);
            await Assert.That(await ProjectIdentity.ResolveAsync(null, dir, cancellationToken, memo)).IsEqualTo("origin:example.com/acme/second-name");
            await Assert.That(await ResolveAged()).IsEqualTo("origin:example.com/acme/second-name");

            await Exec.RunAsync("git", ["remote", "remove", "origin"], dir, cancellationToken);
            await Assert.That(await ResolveAged()).IsEqualTo($"path:{dir}");

            // A config that includes another is never remembered: the included file could change alone.
            var included = Path.Combine(dir, "extra.config");
            File.WriteAllText(included, "[remote \"origin\"]\n\turl = https://example.com/acme/included.git\n");
            await Exec.RunAsync("git", ["config", "include.path", included], dir, cancellationToken);
            await Assert.That(await ResolveAged()).IsEqualTo("origin:example.com/acme/included");
            File.WriteAllText(included, "[remote \"origin\"]\n\turl = https://example.com/acme/moved.git\n");
            await Assert.That(await ResolveAged()).IsEqualTo("origin:example.com/acme/moved");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(memo, recursive: true);
        }
    }
}
