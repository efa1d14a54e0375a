using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.Keys;

/// <summary>The <c>definition</c> hash (docs/cache-keys.md): the generator's constants equal what the runtime computes.</summary>
[NotInParallel(nameof(StepDefinitionHashTests))]
public sealed class StepDefinitionHashTests
{
    public static IEnumerable<string> Pipelines => ["everything", "host-chain", "host-fork", "docker-chain"];

    private static readonly IReadOnlyList<PipelineDefinition> All =
        [Everything.Definition, HostChain.Definition, HostFork.Definition, DockerChain.Definition];

    [Test]
    [MethodDataSource(nameof(Pipelines))]
    public async Task Compile_time_hash_equals_the_runtime_hash_for_every_constant_step(string slug)
    {
        var pipeline = All.Single(p => p.Slug == slug);
        foreach (var step in pipeline.Steps.Where(s => s.ConstantCommand is not null))
        {
            await Assert.That(step.DefinitionHash).IsNotNull();
            await Assert.That(step.DefinitionHash).IsEqualTo(StepDefinitionHash.Compute(pipeline, step));
        }
    }

    [Test]
    public async Task A_non_constant_command_is_hashed_at_run_time_from_what_it_returns()
    {
        var lint = Everything.Definition.Steps.Single(s => s.Key == "lint");

        await Assert.That(lint.ConstantCommand).IsNull();
        await Assert.That(lint.DefinitionHash).IsNull();
        await Assert.That(StepDefinitionHash.Get(Everything.Definition, lint)).IsEqualTo(StepDefinitionHash.Compute(Everything.Definition, lint));
    }

    [Test]
    public async Task The_preimage_is_the_documented_canonical_form()
    {
        var pipeline = Everything.Definition;
        var build = pipeline.Steps.Single(s => s.Key == "build");

        // Spelled out by hand from DefinitionPreimage's doc comment: a child has no image; env sorted; secrets by name only.
        var preimage = string.Join('\0',
            "harmont-definition-v1",
            "cmd", "make -j",
            "image", "",
            "env", "1", "CI", "true",
            "secrets", "1", "REGISTRY_TOKEN",
            "cwd", "src",
            "runner", "auto") + "\0";
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(preimage)));

        await Assert.That(build.DefinitionHash).IsEqualTo(expected);
    }

    [Test]
    public async Task A_root_hashes_its_effective_image_and_runner_and_sorts_env()
    {
        var step = new StepDefinition
        {
            Key = "s",
            Label = "s",
            Command = () => "echo hi",
            Env = [new("B", "2"), new("A", "1"), new("SECRET", "leaked")],
            Secrets = ["SECRET"],
        };
        var pipeline = new PipelineDefinition { Slug = "p", DefaultImage = "alpine:3.20", Runner = Runner.Host, Steps = [step] };

        var preimage = string.Join('\0',
            "harmont-definition-v1", "cmd", "echo hi", "image", "alpine:3.20", "env", "2", "A", "1", "B", "2",
            "secrets", "1", "SECRET", "cwd", "", "runner", "host") + "\0";

        await Assert.That(StepDefinitionHash.Compute(pipeline, step))
            .IsEqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(preimage))));
    }
}
