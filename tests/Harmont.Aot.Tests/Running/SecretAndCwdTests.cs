using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(SecretAndCwdTests))]
public sealed class SecretAndCwdTests : IDisposable
{
    private const string Secret = "s3cr3t-Value-'quoted' $HOME";
    private readonly RunHarness _harness = new();

    public SecretAndCwdTests() => _harness.Env["HM_TEST_SECRET"] = Secret;

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Host_step_gets_its_secret_masked_in_every_log_and_runs_in_its_cwd()
    {
        var run = await _harness.RunAsync(HostSecrets.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        // stdout and stderr are two pipes: lines keep their order within a stream, not across them.
        var logs = run.Events.OfType<Harmont.Aot.Events.StepLog>().Where(e => e.Step == "use").ToList();
        await Assert.That(logs.Where(e => !e.IsError).Select(e => e.Line))
            .IsEquivalentTo((IEnumerable<string>)["inside", "token=***"], CollectionOrdering.Matching);
        await Assert.That(logs.Where(e => e.IsError).Select(e => e.Line)).IsEquivalentTo((IEnumerable<string>)["***"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("s3cr3t", StringComparison.Ordinal);
        await Assert.That(run.Events).DoesNotContain(e => e.ToString().Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Docker_secret_reaches_only_its_step_and_never_the_committed_image()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerSecrets.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("prepare")).IsEquivalentTo((IEnumerable<string>)["token=***"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("inspect"))
            .IsEquivalentTo((IEnumerable<string>)["/workspace/sub/dir", "inside", "no-secret-in-env", "no-secret-file"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("s3cr3t", StringComparison.Ordinal);
    }

    [Test]
    public async Task Missing_secret_exits_2_naming_it_and_the_step_before_anything_runs()
    {
        var run = await _harness.RunAsync(MissingSecret.Definition);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("HM_TEST_SECRET_NEVER_SET (needed by use)", StringComparison.Ordinal);
        await Assert.That(run.Started("use")).IsFalse();
    }
}
