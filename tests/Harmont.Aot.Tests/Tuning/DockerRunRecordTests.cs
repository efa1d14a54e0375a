using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>A Docker run's record has the container's start and commit measured, beside the command, for a cached step.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerRunRecordTests))]
public sealed class DockerRunRecordTests : DockerRunTest
{
    [Test]
    public async Task A_cached_docker_step_records_start_command_commit_and_persist()
    {
        Harness.WriteSource("input.txt", "v1\n");
        var pipeline = Pipeline("docker-records", Runner.Docker, Cached("make", "cat input.txt > made.txt && echo state > /etc/made", null, Forever()));

        var outcome = await Harness.RunAsync(pipeline);

        await Assert.That(outcome.ExitCode == 0).IsTrue().Because(outcome.ToString());
        var facts = (await RunRecordHistoryTests.HistoryAsync(Harness, "docker-records")).Single().Steps["make"].Facts!;
        await Assert.That(facts.StartMs > 0 && facts.CommandMs > 0 && facts.CommitMs > 0 && facts.PersistMs > 0 && facts.PrepareMs > 0).IsTrue();
        await Assert.That(facts.EntryBytes > 0).IsTrue();
        await Assert.That(facts.Digest).StartsWith("tree:");
    }
}
