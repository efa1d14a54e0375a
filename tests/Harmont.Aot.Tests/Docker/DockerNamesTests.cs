using System.Text.RegularExpressions;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(DockerNamesTests))]
public sealed partial class DockerNamesTests
{
    [Test]
    [Arguments("run1", "build")]
    [Arguments("20260101T000000-ab12", "Build.Release_x64")]
    [Arguments("run 1", "step/with:odd*chars")]
    [Arguments("-leading", "dash")]
    [Arguments("", "")]
    [Arguments("ünïcødé", "ステップ")]
    public async Task Snapshot_tags_match_the_docker_tag_grammar(string runId, string stepKey)
    {
        await Assert.That(DockerNames.SnapshotTag(runId, stepKey)).Matches(TagGrammar());
    }

    [Test]
    public async Task Each_cache_dir_names_its_images_in_a_repository_of_its_own_that_no_other_cache_or_legacy_name_matches()
    {
        const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        var a = DockerNames.CacheReference("host:/home/a/.cache/harmont", Key);
        var b = DockerNames.CacheReference("host:/home/b/.cache/harmont", Key);

        await Assert.That(a).IsNotEqualTo(b);
        await Assert.That(a).IsEqualTo(DockerNames.CacheReference("host:/home/a/.cache/harmont", Key));
        await Assert.That(a).Matches(ReferenceGrammar());
        await Assert.That(DockerNames.IsCacheReference(a, "host:/home/a/.cache/harmont", out var tag) && tag == Key).IsTrue();
        await Assert.That(DockerNames.IsCacheReference(b, "host:/home/a/.cache/harmont", out _)).IsFalse();
        await Assert.That(DockerNames.IsCacheReference(DockerNames.LegacyCacheReference(Key), "host:/home/a/.cache/harmont", out _)).IsFalse();
        await Assert.That(DockerNames.IsLegacyCacheReference(a, out _)).IsFalse();
        await Assert.That(new[] { a, b, DockerNames.LegacyCacheReference(Key) }.All(DockerNames.IsAnyCacheReference)).IsTrue();
        await Assert.That(DockerNames.IsAnyCacheReference("harmont-aot/snap:" + Key)).IsFalse();
    }

    [Test]
    public async Task Plain_keys_are_kept_readable()
    {
        await Assert.That(DockerNames.SnapshotTag("run1", "build")).IsEqualTo("run1-build");
    }

    [Test]
    public async Task Long_keys_are_cut_to_128_and_stay_distinct()
    {
        var a = DockerNames.SnapshotTag("run", new string('a', 300) + "1");
        var b = DockerNames.SnapshotTag("run", new string('a', 300) + "2");

        await Assert.That(a.Length).IsEqualTo(128);
        await Assert.That(a).Matches(TagGrammar());
        await Assert.That(b).IsNotEqualTo(a);
    }

    [Test]
    public async Task Keys_that_sanitise_alike_stay_distinct()
    {
        await Assert.That(DockerNames.SnapshotTag("r", "a:b")).IsNotEqualTo(DockerNames.SnapshotTag("r", "a/b"));
    }

    [Test]
    public async Task Container_names_are_valid_and_unique()
    {
        var first = DockerNames.ContainerName("run 1", "step/x");
        var second = DockerNames.ContainerName("run 1", "step/x");

        await Assert.That(first).Matches("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
        await Assert.That(second).IsNotEqualTo(first);
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagGrammar();

    // A repository of lowercase path components, then a tag.
    [GeneratedRegex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex ReferenceGrammar();
}
