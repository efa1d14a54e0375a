using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>
/// <c>auto</c> without an engine: a step that names an image (its own, its lineage's or the pipeline's) must
/// never run on the host unless the user pinned the host; an image-less pipeline still runs there.
/// </summary>
[NotInParallel(nameof(AutoRunnerTests))]
public sealed class AutoRunnerTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public AutoRunnerTests() => _harness.Env["DOCKER_HOST"] = $"unix://{_harness.Root}/no-engine.sock";

    // Where a busybox step would install its dependencies; on the host it would land outside any workspace.
    private string HostMarker => Path.Combine(_harness.Root, "opt-deps");

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Auto_without_an_engine_refuses_a_step_with_the_pipeline_image_and_exits_4_naming_it_and_the_override()
    {
        var run = await _harness.RunAsync(Imaged(defaultImage: BusyboxImage.Image, stepImage: null));

        await Assert.That(run.ExitCode).IsEqualTo(4);
        await Assert.That(run.Error).Contains("deps", StringComparison.Ordinal);
        await Assert.That(run.Error).Contains("--runner host", StringComparison.Ordinal);
        await Assert.That(run.Error).Contains("Runner = Runner.Host", StringComparison.Ordinal);
        await Assert.That(run.Error).DoesNotContain("   at ", StringComparison.Ordinal);
        await Assert.That(run.Executed).IsEmpty();
        await Assert.That(Directory.Exists(HostMarker)).IsFalse().Because("the step ran on the host");
    }

    [Test]
    public async Task Auto_without_an_engine_refuses_a_step_with_its_own_image_and_its_children()
    {
        var run = await _harness.RunAsync(Imaged(defaultImage: null, stepImage: BusyboxImage.Image));

        await Assert.That(run.ExitCode).IsEqualTo(4);
        await Assert.That(run.Error).Contains("deps, child", StringComparison.Ordinal);
        await Assert.That(run.Executed).IsEmpty();
        await Assert.That(Directory.Exists(HostMarker)).IsFalse().Because("the step ran on the host");
    }

    [Test]
    public async Task Runner_host_on_the_command_line_runs_an_imaged_step_on_the_host()
    {
        var run = await _harness.RunAsync(Imaged(defaultImage: BusyboxImage.Image, stepImage: null), "--runner", "host");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.StartOf("deps").Backend).IsEqualTo("host");
        await Assert.That(Directory.Exists(HostMarker)).IsTrue();
    }

    [Test]
    public async Task Runner_host_pinned_on_the_pipeline_runs_an_imaged_step_on_the_host()
    {
        var pipeline = Imaged(defaultImage: BusyboxImage.Image, stepImage: null);
        var pinned = new PipelineDefinition { Slug = pipeline.Slug, DefaultImage = pipeline.DefaultImage, Runner = Runner.Host, Steps = pipeline.Steps };

        var run = await _harness.RunAsync(pinned);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.StartOf("deps").Backend).IsEqualTo("host");
    }

    [Test]
    public async Task Auto_without_an_engine_still_runs_an_image_less_pipeline_on_the_host()
    {
        var run = await _harness.RunAsync(Imaged(defaultImage: null, stepImage: null));

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.StartOf("deps").Backend).IsEqualTo("host");
        await Assert.That(run.Error).Contains("running steps on the host backend", StringComparison.Ordinal);
    }

    private PipelineDefinition Imaged(string? defaultImage, string? stepImage)
    {
        var deps = Define.Step("deps", $"mkdir -p '{HostMarker}'");
        var child = Define.Step("child", "true", from: "deps");
        return new PipelineDefinition
        {
            Slug = "imaged",
            DefaultImage = defaultImage,
            Runner = Runner.Auto,
            Steps = [stepImage is null ? deps : WithImage(deps, stepImage), child],
        };
    }

    private static StepDefinition WithImage(StepDefinition step, string image) => new()
    {
        Key = step.Key,
        Label = step.Label,
        Command = step.Command,
        ConstantCommand = step.ConstantCommand,
        Image = image,
    };
}
