using Harmont.Aot.Generators.Tests.Support;
using Harmont.Aot.Model;
using Xunit;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The generated code compiles cleanly, loads, and describes the pipeline the user wrote.</summary>
public sealed class GeneratedCodeTests
{
    [Fact]
    public void Generated_code_compiles_without_warnings_under_nullable_and_documentation_checks()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested);

        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationProblems);
        Assert.Equal(["Ci.g.cs", "Acme.Build.Pipelines.Release.g.cs", "Harmont.Aot.Generated.PipelineCatalog.g.cs"], run.HintNames);
    }

    [Fact]
    public void Catalog_lists_the_pipelines_with_resolved_keys_env_and_constant_commands()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested);
        using var assembly = new GeneratedAssembly(run.Output);
        var catalog = assembly.Catalog();

        Assert.Equal(["ci", "release"], catalog.Select(p => p.Slug));
        var ci = catalog[0];
        Assert.Equal("alpine:3.20", ci.DefaultImage);
        Assert.Equal(Runner.Auto, ci.Runner);
        Assert.Equal(["deps", "build", "test", "lint", "report", "custom-key"], ci.Steps.Select(s => s.Key));

        var byKey = ci.Steps.ToDictionary(s => s.Key);
        Assert.Null(byKey["deps"].From);
        Assert.Equal("deps", byKey["build"].From);
        Assert.Equal("build", byKey["lint"].From);
        Assert.Equal(["test", "lint"], byKey["report"].After);
        Assert.Equal(Runner.Host, byKey["report"].Runner);
        Assert.Equal(Runner.Inherit, byKey["build"].Runner);
        Assert.Equal("Report results", byKey["report"].Label);
        Assert.Equal("Deps", byKey["deps"].Label);
        Assert.Equal("debian:12", byKey["custom-key"].Image);
        Assert.Equal(
            [new("CC", "gcc"), new("CFLAGS", "-O2 -DX=\"1\"")],
            byKey["lint"].Env);

        Assert.Equal("apk add build-base", byKey["deps"].ConstantCommand);
        Assert.Equal("./it.sh --all", byKey["custom-key"].ConstantCommand);
        Assert.Null(byKey["lint"].ConstantCommand);
    }

    [Fact]
    public void A_command_that_is_not_constant_runs_through_its_delegate()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        using var assembly = new GeneratedAssembly(run.Output);
        var steps = assembly.Catalog().Single().Steps.ToDictionary(s => s.Key);

        Assert.Equal($"make lint -j{Environment.ProcessorCount}", steps["lint"].Command());
        Assert.Equal("apk add build-base", steps["deps"].Command());
    }

    [Fact]
    public void Nested_pipeline_keeps_its_namespace_modifiers_and_escaped_names()
    {
        var run = GeneratorHarness.Run(Samples.Nested);
        using var assembly = new GeneratedAssembly(run.Output);
        var release = assembly.Catalog().Single();

        Assert.Equal(Runner.Docker, release.Runner);
        Assert.Equal("class", release.Steps.Single().Key);
        Assert.Equal("echo keyword", release.Steps.Single().Command());
        Assert.NotNull(assembly.Assembly.GetType("Acme.Build.Pipelines+Release"));
    }

    [Fact]
    public void Empty_compilation_still_gets_an_empty_catalog()
    {
        var run = GeneratorHarness.Run("class Unrelated { }");
        Assert.Equal(["Harmont.Aot.Generated.PipelineCatalog.g.cs"], run.HintNames);
        Assert.Empty(run.CompilationProblems);

        using var assembly = new GeneratedAssembly(run.Output);
        Assert.Empty(assembly.Catalog());
    }

    [Fact]
    public void Steps_in_another_partial_part_are_found_and_folded()
    {
        var run = GeneratorHarness.Run(
            """
            using Harmont.Aot;
            [Pipeline("split")] static partial class Split { [Step] static string First() => "one"; }
            """,
            """
            static partial class Split
            {
                const string Two = "two";
                [Harmont.Aot.Step(From = nameof(First))] static string Second() => Two + "!";
            }
            """);
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationProblems);

        using var assembly = new GeneratedAssembly(run.Output);
        var second = assembly.Catalog().Single().Steps[1];
        Assert.Equal(("second", "first", "two!"), (second.Key, second.From, second.ConstantCommand));
    }

    [Fact]
    public void Duplicate_slug_keeps_the_first_pipeline_in_the_catalog()
    {
        var run = GeneratorHarness.Run("""
            using Harmont.Aot;
            [Pipeline("ci")] static partial class First { [Step] static string A() => "first"; }
            [Pipeline("ci")] static partial class Second { [Step] static string A() => "second"; }
            """);
        Assert.Equal(["HM0004"], run.Diagnostics.Select(d => d.Id));

        using var assembly = new GeneratedAssembly(run.Output);
        Assert.Equal("first", assembly.Catalog().Single().Steps.Single().ConstantCommand);
    }
}
