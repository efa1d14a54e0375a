using System.Text.Json;

namespace Harmont.Aot.Tests;

public sealed class RunVerbTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Rendered_ir_runs_with_run_ir_like_the_compiled_pipeline()
    {
        _harness.WriteSource("source.txt", "from-source\n");
        var render = await _harness.RunAsync([HostChain.Definition], ["render"]);
        Assert.True(render.ExitCode == 0, render.ToString());
        var file = Path.Combine(_harness.Root, "host-chain.json");
        await File.WriteAllTextAsync(file, render.Output, TestContext.Current.CancellationToken);

        var run = await _harness.RunAsync([], ["run", "--ir", file]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["from-source"], run.LogsOf("setup"));
        Assert.Equal(["from-setup", "from-build", "hello from env", "True"], run.LogsOf("verify"));
    }

    [Fact]
    public async Task Malformed_ir_exits_2_naming_the_field_and_nothing_runs()
    {
        var file = Path.Combine(_harness.Root, "bad.json");
        await File.WriteAllTextAsync(file, """{"version": "0", "steps": [{"type": "command", "key": "a"}]}""", TestContext.Current.CancellationToken);

        var run = await _harness.RunAsync([], ["run", "--ir", file]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("cmd", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Events);
    }

    [Fact]
    public async Task A_pipeline_named_beside_an_ir_file_names_the_document_s_pipeline()
    {
        var file = Path.Combine(_harness.Root, "doc.json");
        await File.WriteAllTextAsync(file, """{"version": "0", "slug": "from-doc", "steps": [{"type": "command", "key": "a", "cmd": "true", "runner": "host"}]}""", TestContext.Current.CancellationToken);

        var run = await _harness.RunAsync([HostChain.Definition], ["run", "renamed", "--ir", file, "--runner", "host"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("renamed", run.Events.OfType<Harmont.Aot.Events.BuildStarted>().Single().Pipeline);
    }

    [Fact]
    public async Task Json_format_writes_only_ndjson_events_to_stdout()
    {
        _harness.WriteSource("source.txt", "from-source\n");
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync([HostChain.Definition, AutoEcho.Definition], ["run", "auto-echo", "--format", "json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var types = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("event").GetString())
            .ToList();
        Assert.Equal(["build_start", "step_queued", "step_start", "step_log", "step_end", "build_end"], types);
        Assert.Contains("running steps on the host backend", run.Error, StringComparison.Ordinal);
    }
}
