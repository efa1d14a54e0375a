using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Containment;

/// <summary>The host-deleting attack of docs/workspaces.md (containment) through a real container: a Docker step's links are data to the runner.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerContainmentTests))]
public sealed class DockerContainmentTests : DockerRunTest
{
    [Test]
    public async Task A_cached_docker_step_that_links_src_to_a_host_dir_cannot_make_the_runner_delete_host_files(CancellationToken cancellationToken)
    {
        var hostDir = Directory.CreateTempSubdirectory("harmont-victim-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(hostDir, "old.txt"), "the host's file");
            Harness.WriteSource("src/old.txt", "source");
            Harness.WriteSource("src/keep.txt", "kept");
            await GitRepo.RunAsync(Harness, "init", "-q");
            await GitRepo.RunAsync(Harness, "add", "-A");
            await GitRepo.RunAsync(Harness, "commit", "-qm", "initial");
            var pipeline = Pipeline(
                "escape",
                Runner.Docker,
                Cached("deps", $"rm -rf src && ln -s {hostDir} src", null, Forever()),
                Step("build", "ls -la /workspace", "deps"));
            var first = await Harness.RunAsync(pipeline);
            await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

            await GitRepo.RunAsync(Harness, "rm", "-q", "src/old.txt");
            await GitRepo.RunAsync(Harness, "commit", "-qm", "remove old");
            var second = await Harness.RunAsync(pipeline);

            await Assert.That(second.Hit("deps")).IsTrue().Because(second.ToString());
            await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
            await Assert.That(await File.ReadAllTextAsync(Path.Combine(hostDir, "old.txt"), cancellationToken)).IsEqualTo("the host's file");
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    }
}
