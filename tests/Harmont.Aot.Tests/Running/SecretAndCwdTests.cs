namespace Harmont.Aot.Tests;

public sealed class SecretAndCwdTests : IDisposable
{
    private const string Secret = "s3cr3t-Value-'quoted' $HOME";
    private readonly RunHarness _harness = new();

    public SecretAndCwdTests() => _harness.Env["HM_TEST_SECRET"] = Secret;

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Host_step_gets_its_secret_masked_in_every_log_and_runs_in_its_cwd()
    {
        var run = await _harness.RunAsync(HostSecrets.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        // stdout and stderr are two pipes: lines keep their order within a stream, not across them.
        var logs = run.Events.OfType<Harmont.Aot.Events.StepLog>().Where(e => e.Step == "use").ToList();
        Assert.Equal(["inside", "token=***"], logs.Where(e => !e.IsError).Select(e => e.Line));
        Assert.Equal(["***"], logs.Where(e => e.IsError).Select(e => e.Line));
        Assert.DoesNotContain("s3cr3t", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Events, e => e.ToString().Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requires", "docker")]
    public async Task Docker_secret_reaches_only_its_step_and_never_the_committed_image()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerSecrets.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["token=***"], run.LogsOf("prepare"));
        Assert.Equal(["/workspace/sub/dir", "inside", "no-secret-in-env", "no-secret-file"], run.LogsOf("inspect"));
        Assert.DoesNotContain("s3cr3t", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_secret_exits_2_naming_it_and_the_step_before_anything_runs()
    {
        var run = await _harness.RunAsync(MissingSecret.Definition);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("HM_TEST_SECRET_NEVER_SET (needed by use)", run.Error, StringComparison.Ordinal);
        Assert.False(run.Started("use"));
    }
}
