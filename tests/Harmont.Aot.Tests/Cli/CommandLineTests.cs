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

public sealed class CommandLineTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Auto_runs_on_the_host_when_no_engine_answers_and_says_so_in_one_line()
    {
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync(AutoEcho.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("host", run.StartOf("hello").Backend);
        var notice = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"harmont: no Docker engine answered at unix://{_harness.Root}/no-engine.sock; running steps on the host backend.", notice);
    }

    [Fact]
    public async Task Required_docker_without_an_engine_exits_4_naming_the_socket_and_the_fix()
    {
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync(AutoEcho.Definition, "--runner", "docker");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains($"unix://{_harness.Root}/no-engine.sock", run.Error, StringComparison.Ordinal);
        Assert.Contains("--runner host", run.Error, StringComparison.Ordinal);
        Assert.False(run.Started("hello"));
    }

    [Fact]
    public async Task Malformed_docker_host_is_a_usage_error_naming_the_value()
    {
        _harness.Env["DOCKER_HOST"] = "ssh://builder";

        var run = await _harness.RunAsync(AutoEcho.Definition);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("ssh://", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_pipeline_exits_2_and_lists_the_known_ones()
    {
        var run = await _harness.RunAsync([AutoEcho.Definition, HostChain.Definition], ["run", "nope"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no pipeline named 'nope'", run.Error, StringComparison.Ordinal);
        Assert.Contains("auto-echo, host-chain", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_pipelines_and_none_named_exits_2_asking_for_one()
    {
        var run = await _harness.RunAsync([AutoEcho.Definition, HostChain.Definition], []);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("name the one to run", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zero_parallelism_is_a_usage_error()
    {
        var run = await _harness.RunAsync(HostChain.Definition, "--parallelism", "0");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--parallelism must be at least 1", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requires", "docker")]
    public async Task Docker_root_step_without_an_image_exits_2_naming_the_step_and_the_fix()
    {
        var run = await _harness.RunAsync(ImageLess.Definition);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("root step 'hello' runs in Docker but has no image", run.Error, StringComparison.Ordinal);
        Assert.Contains("DefaultImage", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_shows_each_pipeline_with_its_steps_and_lineage()
    {
        var run = await _harness.RunAsync([HostChain.Definition, DockerFail.Definition], ["list"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            """
            host-chain (runner host)
              setup
              build   from setup
              verify  from build
            docker-fail (runner docker, image harmont-test/busybox:1)
              prepare
              broken      from prepare
              downstream  from broken
              waiter      after broken

            """,
            run.Output);
    }
}
