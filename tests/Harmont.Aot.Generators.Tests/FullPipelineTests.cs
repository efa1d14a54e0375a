using Harmont.Aot.Generators.Tests.Support;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The pipeline with every DSL feature: what the generated definition holds, and its compile-time definition hashes.</summary>
public sealed class FullPipelineTests
{
    [Fact]
    public void Generated_code_compiles_without_warnings()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationProblems);
    }

    [Fact]
    public void Readme_example_compiles_without_a_diagnostic()
    {
        var run = GeneratorHarness.Run(Samples.Readme);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationProblems);

        using var assembly = new GeneratedAssembly(run.Output);
        var publish = assembly.Catalog().Single().Steps.Single(s => s.Key == "publish");
        Assert.Equal(["deps", "build", "test", "lint", "it", "report"], publish.After);
    }

    [Fact]
    public void Pipeline_settings_reach_the_definition()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var full = assembly.Catalog().Single();

        Assert.Equal("full", full.Slug);
        Assert.Equal("alpine:3.20", full.DefaultImage);
        Assert.Equal(TimeSpan.FromHours(1), full.Timeout);
        Assert.Equal("acme/full", full.Project);
        Assert.Equal([new("CI", "true"), new("LANG", "C.UTF-8")], full.Env);
    }

    [Fact]
    public void Step_settings_reach_the_definition_with_pipeline_env_and_secrets_merged_in()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var steps = assembly.Catalog().Single().Steps.ToDictionary(s => s.Key);

        Assert.Equal([new ForeverCachePolicy(["ALPINE_MIRROR"])], steps["deps"].Cache);
        Assert.Equal(
            [new OnChangeCachePolicy(["src/**", "Makefile"]), new TtlCachePolicy(TimeSpan.FromDays(7), [])],
            steps["build"].Cache);
        Assert.Equal("src", steps["build"].Cwd);
        Assert.Equal(TimeSpan.FromMinutes(15), steps["build"].Timeout);
        Assert.Equal(TimeSpan.FromMinutes(90), steps["integration"].Timeout);
        Assert.Empty(steps["test"].Cache);

        // The step's own LANG replaces the pipeline's in place; CC follows.
        Assert.Equal([new("CI", "true"), new("LANG", "en_US.UTF-8"), new("CC", "gcc")], steps["test"].Env);
        Assert.Equal("Unit tests", steps["test"].Label);
        Assert.Equal(["REGISTRY_TOKEN"], steps["deps"].Secrets);
        Assert.Equal(["REGISTRY_TOKEN", "NPM_TOKEN"], steps["lint"].Secrets);
        Assert.Equal(Runner.Docker, steps["integration"].Runner);
        Assert.Equal("debian:12", steps["integration"].Image);
    }

    [Fact]
    public void After_all_is_a_barrier_on_every_step_declared_above()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var report = assembly.Catalog().Single().Steps.Single(s => s.Key == "report");

        Assert.Null(report.From);
        Assert.Equal(["deps", "build", "test", "lint", "integration"], report.After);
    }

    [Fact]
    public void Compile_time_definition_hash_equals_the_runtime_hash_of_the_same_step()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full, Samples.Ci).Output);
        var checkedSteps = 0;
        foreach (var pipeline in assembly.Catalog())
        {
            foreach (var step in pipeline.Steps.Where(s => s.ConstantCommand is not null))
            {
                Assert.NotNull(step.DefinitionHash);
                Assert.Matches("^[0-9a-f]{64}$", step.DefinitionHash);
                Assert.Equal(StepDefinitionHash.Compute(pipeline, step), step.DefinitionHash);
                checkedSteps++;
            }
        }

        Assert.True(checkedSteps >= 8, $"only {checkedSteps} steps had a constant command");
    }

    [Fact]
    public void A_command_that_is_not_constant_has_no_compile_time_hash_and_the_runtime_computes_it()
    {
        using var assembly = new GeneratedAssembly(GeneratorHarness.Run(Samples.Full).Output);
        var pipeline = assembly.Catalog().Single();
        var lint = pipeline.Steps.Single(s => s.Key == "lint");

        Assert.Null(lint.DefinitionHash);
        var hash = StepDefinitionHash.Get(pipeline, lint);
        Assert.Matches("^[0-9a-f]{64}$", hash);

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
        Assert.Equal(StepDefinitionHash.Compute(pipeline, sameButConstant), hash);
    }

    [Fact]
    public void Every_part_of_the_definition_changes_the_hash_and_secret_values_cannot()
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
            Assert.NotEqual(baseHash, HashOf(variant));
        }

        // Labels, keys and cache policies are not part of the definition.
        Assert.Equal(baseHash, HashOf(Base.Replace("[Step(", "[Step(Label = \"Other\", ", StringComparison.Ordinal)));
        Assert.Equal(baseHash, HashOf(Base.Replace("Secret(\"TOKEN\")]", "Secret(\"TOKEN\"), CacheForever]", StringComparison.Ordinal)));
    }
}
