using System.Text.RegularExpressions;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

public sealed partial class DockerNamesTests
{
    [Theory]
    [InlineData("run1", "build")]
    [InlineData("20260101T000000-ab12", "Build.Release_x64")]
    [InlineData("run 1", "step/with:odd*chars")]
    [InlineData("-leading", "dash")]
    [InlineData("", "")]
    [InlineData("ünïcødé", "ステップ")]
    public void Snapshot_tags_match_the_docker_tag_grammar(string runId, string stepKey)
    {
        Assert.Matches(TagGrammar(), DockerNames.SnapshotTag(runId, stepKey));
    }

    [Fact]
    public void Plain_keys_are_kept_readable()
    {
        Assert.Equal("run1-build", DockerNames.SnapshotTag("run1", "build"));
    }

    [Fact]
    public void Long_keys_are_cut_to_128_and_stay_distinct()
    {
        var a = DockerNames.SnapshotTag("run", new string('a', 300) + "1");
        var b = DockerNames.SnapshotTag("run", new string('a', 300) + "2");

        Assert.Equal(128, a.Length);
        Assert.Matches(TagGrammar(), a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Keys_that_sanitise_alike_stay_distinct()
    {
        Assert.NotEqual(DockerNames.SnapshotTag("r", "a/b"), DockerNames.SnapshotTag("r", "a:b"));
    }

    [Fact]
    public void Container_names_are_valid_and_unique()
    {
        var first = DockerNames.ContainerName("run 1", "step/x");
        var second = DockerNames.ContainerName("run 1", "step/x");

        Assert.Matches("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", first);
        Assert.NotEqual(first, second);
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagGrammar();
}
