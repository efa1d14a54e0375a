using Harmont.Aot.Generators.Tests.Support;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The pipeline with every DSL feature: what the generated definition holds, and its compile-time definition hashes.</summary>
[NotInParallel(nameof(FullPipelineTests))]
public sealed class FullPipelineTests
{
    [Test]
    public async Task Generated_code_compiles_without_warnings()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();
    }

    [Test]
    public async Task Readme_example_compiles_without_a_diagnostic()
    {
        var run = GeneratorHarness.Run(Samples.Readme);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();

        using var assembly = new GeneratedAssembly(run.Output);
        var publish = assembly.Catalog().Single().Steps.Single(s => s.Key == "publish");
        await Assert.That(publish.After)
            .IsEquivalentTo((IEnumerable<string>)["deps", "build", "test", "lint", "it", "compile", "report"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Incremental_and_cache_mounts_reach_the_definition_and_not_its_hash()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Readme).Output);
        var pipeline = assembly.Catalog().Single();
        var compile = pipeline.Steps.Single(s => s.Key == "compile");
        await Assert.That(compile.Incremental).IsTrue();
        await Assert.That(compile.CacheMounts).IsEquivalentTo((IEnumerable<CacheMount>)[new CacheMount("/root/.cache/ccache", "ccache")]);
        await Assert.That(pipeline.Steps.Single(s => s.Key == "build").Incremental).IsFalse();

        // Neither setting is part of the definition: the hash is the runtime's for the step without them.
        var plain = new StepDefinition
        {
            Key = compile.Key, Label = compile.Label, Command = compile.Command, ConstantCommand = compile.ConstantCommand, From = compile.From, Env = compile.Env,
        };
        await Assert.That(compile.DefinitionHash).IsEqualTo(StepDefinitionHash.Compute(pipeline, plain));
    }

    [Test]
    public async Task Pipeline_settings_reach_the_definition()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var full = assembly.Catalog().Single();

        await Assert.That(full.Slug).IsEqualTo("full");
        await Assert.That(full.DefaultImage).IsEqualTo("alpine:3.20");
        await Assert.That(full.Timeout).IsEqualTo(TimeSpan.FromHours(1));
        await Assert.That(full.Project).IsEqualTo("acme/full");
        await Assert.That(full.Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CI", "true"), new("LANG", "C.UTF-8")], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Step_settings_reach_the_definition_with_pipeline_env_and_secrets_merged_in()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var steps = assembly.Catalog().Single().Steps.ToDictionary(s => s.Key);

        await Assert.That(steps["deps"].Cache)
            .IsEquivalentTo((IEnumerable<CachePolicy>)[new ForeverCachePolicy(["ALPINE_MIRROR"])], EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
        await Assert.That(steps["build"].Cache)
            .IsEquivalentTo((IEnumerable<CachePolicy>)[new OnChangeCachePolicy(["src/**", "Makefile"]), new TtlCachePolicy(TimeSpan.FromDays(7), [])], EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
        await Assert.That(steps["build"].Cwd).IsEqualTo("src");
        await Assert.That(steps["build"].Timeout).IsEqualTo(TimeSpan.FromMinutes(15));
        await Assert.That(steps["integration"].Timeout).IsEqualTo(TimeSpan.FromMinutes(90));
        await Assert.That(steps["test"].Cache).IsEmpty();

        // The step's own LANG replaces the pipeline's in place; CC follows.
        await Assert.That(steps["test"].Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CI", "true"), new("LANG", "en_US.UTF-8"), new("CC", "gcc")], CollectionOrdering.Matching);
        await Assert.That(steps["test"].Label).IsEqualTo("Unit tests");
        await Assert.That(steps["deps"].Secrets).IsEquivalentTo((IEnumerable<string>)["REGISTRY_TOKEN"], CollectionOrdering.Matching);
        await Assert.That(steps["lint"].Secrets).IsEquivalentTo((IEnumerable<string>)["REGISTRY_TOKEN", "NPM_TOKEN"], CollectionOrdering.Matching);
        await Assert.That(steps["integration"].Runner).IsEqualTo(Runner.Docker);
        await Assert.That(steps["integration"].Image).IsEqualTo("debian:12");
    }

    [Test]
    public async Task After_all_is_a_barrier_on_every_step_declared_above()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var report = assembly.Catalog().Single().Steps.Single(s => s.Key == "report");

        await Assert.That(report.From).IsNull();
        await Assert.That(report.After)
            .IsEquivalentTo((IEnumerable<string>)["deps", "build", "test", "lint", "integration"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Compile_time_definition_hash_equals_the_runtime_hash_of_the_same_step()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full, Samples.Ci).Output);
        var checkedSteps = 0;
        foreach (var pipeline in assembly.Catalog())
        {
            foreach (var step in pipeline.Steps.Where(s => s.ConstantCommand is not null))
            {
                await Assert.That(step.DefinitionHash).IsNotNull();
                await Assert.That(step.DefinitionHash).Matches("^[0-9a-f]{64}$");
                await Assert.That(step.DefinitionHash).IsEqualTo(StepDefinitionHash.Compute(pipeline, step));
                checkedSteps++;
            }
        }

        await Assert.That(checkedSteps >= 8).IsTrue().Because($"only {checkedSteps} steps had a constant command");
    }

    [Test]
    public async Task A_steps_network_mode_reaches_its_definition_and_both_hashes_agree()
    {
        const string Source = """
            using Harmont.Aot;
            [Pipeline("net", DefaultImage = "alpine:3.20")]
            static partial class Net
            {
                [Step(Network = Network.None)] static string Offline() => "make";
                [Step(From = nameof(Offline), Network = Network.Host)] static string Shared() => "make check";
                [Step(From = nameof(Offline))] static string Plain() => "make install";
            }
            """;
        var run = GeneratorHarness.Run(Source);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();
        using var assembly = new GeneratedAssembly(run.Output);
        var pipeline = assembly.Catalog().Single();

        await Assert.That(pipeline.Steps.Select(s => s.Network))
            .IsEquivalentTo((IEnumerable<Network>)[Network.None, Network.Host, Network.Default], CollectionOrdering.Matching);
        foreach (var step in pipeline.Steps)
        {
            await Assert.That(step.DefinitionHash).IsEqualTo(StepDefinitionHash.Compute(pipeline, step));
        }
    }

    [Test]
    public async Task A_command_that_is_not_constant_has_no_compile_time_hash_and_the_runtime_computes_it()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var pipeline = assembly.Catalog().Single();
        var lint = pipeline.Steps.Single(s => s.Key == "lint");

        await Assert.That(lint.DefinitionHash).IsNull();
        var hash = StepDefinitionHash.Get(pipeline, lint);
        await Assert.That(hash).Matches("^[0-9a-f]{64}$");

        // The runtime value is the hash of the command the step would run.
        var sameButConstant = new StepDefinition
        {
            Key = lint.Key,
            Label = lint.Label,
            Command = lint.Command,
            ConstantCommand = lint.Command(),
            From = lint.From,
            Env = lint.Env,
            Secrets = lint.Secrets,
        };
        await Assert.That(hash).IsEqualTo(StepDefinitionHash.Compute(pipeline, sameButConstant));
    }

    [Test]
    public async Task Every_part_of_the_definition_changes_the_hash_and_secret_values_cannot()
    {
        static string HashOf(string source) =>
            GeneratorHarness.Run(source).Source("P.g.cs").Split('\n').Single(l => l.Contains("DefinitionHash", StringComparison.Ordinal));

        const string Base = """
            using Harmont.Aot;
            [Pipeline("p", DefaultImage = "alpine:3.20"), Env("A=1")]
            static partial class P { [Step(Cwd = "src"), Secret("TOKEN")] static string S() => "make"; }
            """;
        var baseHash = HashOf(Base);
        string[] variants =
        [
            Base.Replace("\"make\"", "\"make all\"", StringComparison.Ordinal),
            Base.Replace("alpine:3.20", "alpine:3.21", StringComparison.Ordinal),
            Base.Replace("A=1", "A=2", StringComparison.Ordinal),
            Base.Replace("Cwd = \"src\"", "Cwd = \"lib\"", StringComparison.Ordinal),
            Base.Replace("Cwd = \"src\"", "Cwd = \"src\", Runner = Runner.Host", StringComparison.Ordinal),
            Base.Replace("Secret(\"TOKEN\")", "Secret(\"OTHER\")", StringComparison.Ordinal),
        ];

        foreach (var variant in variants)
        {
            await Assert.That(HashOf(variant)).IsNotEqualTo(baseHash);
        }

        // A network mode is part of it, but only when set: steps written before it existed keep their keys.
        await Assert.That(HashOf(Base.Replace("Cwd = \"src\"", "Cwd = \"src\", Network = Network.None", StringComparison.Ordinal))).IsNotEqualTo(baseHash);
        await Assert.That(HashOf(Base.Replace("Cwd = \"src\"", "Cwd = \"src\", Network = Network.Bridge", StringComparison.Ordinal))).IsNotEqualTo(baseHash);
        await Assert.That(HashOf(Base.Replace("Cwd = \"src\"", "Cwd = \"src\", Network = Network.Default", StringComparison.Ordinal))).IsEqualTo(baseHash);

        // Labels, keys and cache policies are not part of the definition.
        await Assert.That(HashOf(Base.Replace("[Step(", "[Step(Label = \"Other\", ", StringComparison.Ordinal))).IsEqualTo(baseHash);
        await Assert.That(HashOf(Base.Replace("Secret(\"TOKEN\")]", "Secret(\"TOKEN\"), CacheForever]", StringComparison.Ordinal)))
            .IsEqualTo(baseHash);
    }
}
