namespace Harmont.Aot.Tests;

[Pipeline("auto-echo")]
internal static partial class AutoEcho
{
    [Step]
    private static string Hello() => "echo hello";
}

[Pipeline("image-less", Runner = Runner.Docker)]
internal static partial class ImageLess
{
    [Step]
    private static string Hello() => "echo hello";
}

[NotInParallel(nameof(CommandLineTests))]
public sealed class CommandLineTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Auto_runs_on_the_host_when_no_engine_answers_and_says_so_in_one_line()
    {
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync(AutoEcho.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.StartOf("hello").Backend).IsEqualTo("host");
        var notice = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(notice)
            .IsEqualTo($"harmont: no Docker engine answered at unix://{_harness.Root}/no-engine.sock; running steps on the host backend.");
    }

    [Test]
    public async Task Required_docker_without_an_engine_exits_4_naming_the_socket_and_the_fix()
    {
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync(AutoEcho.Definition, "--runner", "docker");

        await Assert.That(run.ExitCode).IsEqualTo(4);
        await Assert.That(run.Error).Contains($"unix://{_harness.Root}/no-engine.sock", StringComparison.Ordinal);
        await Assert.That(run.Error).Contains("--runner host", StringComparison.Ordinal);
        await Assert.That(run.Started("hello")).IsFalse();
    }

    [Test]
    public async Task Malformed_docker_host_is_a_usage_error_naming_the_value()
    {
        _harness.Env["DOCKER_HOST"] = "ssh://builder";

        var run = await _harness.RunAsync(AutoEcho.Definition);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("ssh://", StringComparison.Ordinal);
    }

    [Test]
    public async Task Unknown_pipeline_exits_2_and_lists_the_known_ones()
    {
        var run = await _harness.RunAsync([AutoEcho.Definition, HostChain.Definition], ["run", "nope"]);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("no pipeline named 'nope'", StringComparison.Ordinal);
        await Assert.That(run.Error).Contains("auto-echo, host-chain", StringComparison.Ordinal);
    }

    [Test]
    public async Task Several_pipelines_and_none_named_exits_2_asking_for_one()
    {
        var run = await _harness.RunAsync([AutoEcho.Definition, HostChain.Definition], []);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("name the one to run", StringComparison.Ordinal);
    }

    [Test]
    public async Task Zero_parallelism_is_a_usage_error()
    {
        var run = await _harness.RunAsync(HostChain.Definition, "--parallelism", "0");

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("--parallelism must be at least 1", StringComparison.Ordinal);
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Docker_root_step_without_an_image_exits_2_naming_the_step_and_the_fix()
    {
        var run = await _harness.RunAsync(ImageLess.Definition);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("root step 'hello' runs in Docker but has no image", StringComparison.Ordinal);
        await Assert.That(run.Error).Contains("DefaultImage", StringComparison.Ordinal);
    }

    [Test]
    public async Task List_shows_each_pipeline_with_its_steps_and_lineage()
    {
        var run = await _harness.RunAsync([HostChain.Definition, DockerFail.Definition], ["list"]);

        await Assert.That(run.ExitCode).IsEqualTo(0);
        await Assert.That(run.Output).IsEqualTo("""
            host-chain (runner host)
              setup
              build   from setup
              verify  from build
            docker-fail (runner docker, image harmont-test/busybox:1)
              prepare
              broken      from prepare
              downstream  from broken
              waiter      after broken

            """);
    }
}
