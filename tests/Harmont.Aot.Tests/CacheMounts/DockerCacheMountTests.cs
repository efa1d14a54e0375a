using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.CacheMounts;

/// <summary>[CacheMount] in Docker: bound into the container, kept across runs, and in neither the committed image nor the entry.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerCacheMountTests))]
public sealed class DockerCacheMountTests : DockerRunTest
{
    [Test]
    public async Task The_mount_persists_across_runs_and_is_not_in_the_childs_image_or_workspace()
    {
        StepDefinition Step(string key, string command, string? from = null, bool mount = true) => new()
        {
            Key = key, Label = key, Command = () => command, ConstantCommand = command, From = from,
            CacheMounts = mount ? [new CacheMount("~/.cache/tool", "tool")] : [],
        };

        var counter = "n=$(cat /root/.cache/tool/n 2>/dev/null || echo 0); echo $((n + 1)) > /root/.cache/tool/n; echo count=$((n + 1))";
        var pipeline = Define.Pipeline(
            "docker-mounts", Aot.Runner.Docker, Step("a", counter), Step("b", "ls -A /root/.cache/tool 2>/dev/null | wc -l; ls -A | wc -l", "a", mount: false));
        var first = await Harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.LogsOf("a")).Contains("count=1");

        // The child starts from a's committed image and output: the mount is in neither.
        await Assert.That(first.LogsOf("b").Select(l => l.Trim())).IsEquivalentTo((IEnumerable<string>)["0", "0"]);

        var second = await Harness.RunAsync(pipeline);
        await Assert.That(second.LogsOf("a")).Contains("count=2").Because(second.ToString());
    }
}
