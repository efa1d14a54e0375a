using System.Text.Json;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(RunVerbTests))]
public sealed class RunVerbTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Rendered_ir_runs_with_run_ir_like_the_compiled_pipeline(CancellationToken cancellationToken)
    {
        _harness.WriteSource("source.txt", "from-source\n");
        var render = await _harness.RunAsync([HostChain.Definition], ["render"]);
        await Assert.That(render.ExitCode == 0).IsTrue().Because(render.ToString());
        var file = Path.Combine(_harness.Root, "host-chain.json");
        await File.WriteAllTextAsync(file, render.Output, cancellationToken);

        var run = await _harness.RunAsync([], ["run", "--ir", file]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("setup")).IsEquivalentTo((IEnumerable<string>)["from-source"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("verify"))
            .IsEquivalentTo((IEnumerable<string>)["from-setup", "from-build", "hello from env", "True"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Malformed_ir_exits_2_naming_the_field_and_nothing_runs(CancellationToken cancellationToken)
    {
        var file = Path.Combine(_harness.Root, "bad.json");
        await File.WriteAllTextAsync(file, """{"version": "0", "steps": [{"type": "command", "key": "a"}]}""", cancellationToken);

        var run = await _harness.RunAsync([], ["run", "--ir", file]);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("cmd", StringComparison.Ordinal);
        await Assert.That(run.Events).IsEmpty();
    }

    [Test]
    public async Task A_pipeline_named_beside_an_ir_file_names_the_document_s_pipeline(CancellationToken cancellationToken)
    {
        var file = Path.Combine(_harness.Root, "doc.json");
        await File.WriteAllTextAsync(file, """{"version": "0", "slug": "from-doc", "steps": [{"type": "command", "key": "a", "cmd": "true", "runner": "host"}]}""", cancellationToken);

        var run = await _harness.RunAsync([HostChain.Definition], ["run", "renamed", "--ir", file, "--runner", "host"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.Events.OfType<Harmont.Aot.Events.BuildStarted>().Single().Pipeline).IsEqualTo("renamed");
    }

    [Test]
    public async Task Json_format_writes_only_ndjson_events_to_stdout()
    {
        _harness.WriteSource("source.txt", "from-source\n");
        _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

        var run = await _harness.RunAsync([HostChain.Definition, AutoEcho.Definition], ["run", "auto-echo", "--format", "json"]);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        var types = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("event").GetString())
            .ToList();
        await Assert.That(types)
            .IsEquivalentTo((IEnumerable<string?>)["build_start", "step_queued", "step_start", "step_log", "step_end", "build_end"], CollectionOrdering.Matching);
        await Assert.That(run.Error).Contains("running steps on the host backend", StringComparison.Ordinal);
    }
}
