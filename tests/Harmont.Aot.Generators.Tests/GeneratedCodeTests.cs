using Harmont.Aot.Generators.Tests.Support;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The generated code compiles cleanly, loads, and describes the pipeline the user wrote.</summary>
[NotInParallel(nameof(GeneratedCodeTests))]
public sealed class GeneratedCodeTests
{
    [Test]
    public async Task Generated_code_compiles_without_warnings_under_nullable_and_documentation_checks()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested);

        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();
        await Assert.That(run.HintNames)
            .IsEquivalentTo((IEnumerable<string>)["Ci.g.cs", "Acme.Build.Pipelines.Release.g.cs", "Harmont.Aot.Generated.PipelineCatalog.g.cs"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Catalog_lists_the_pipelines_with_resolved_keys_env_and_constant_commands()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested);
        using var assembly = new GeneratedAssembly(run.Output);
        var catalog = assembly.Catalog();

        await Assert.That(catalog.Select(p => p.Slug)).IsEquivalentTo((IEnumerable<string>)["ci", "release"], CollectionOrdering.Matching);
        var ci = catalog[0];
        await Assert.That(ci.DefaultImage).IsEqualTo("alpine:3.20");
        await Assert.That(ci.Runner).IsEqualTo(Runner.Auto);
        await Assert.That(ci.Steps.Select(s => s.Key))
            .IsEquivalentTo((IEnumerable<string>)["deps", "build", "test", "lint", "report", "custom-key"], CollectionOrdering.Matching);

        var byKey = ci.Steps.ToDictionary(s => s.Key);
        await Assert.That(byKey["deps"].From).IsNull();
        await Assert.That(byKey["build"].From).IsEqualTo("deps");
        await Assert.That(byKey["lint"].From).IsEqualTo("build");
        await Assert.That(byKey["report"].After).IsEquivalentTo((IEnumerable<string>)["test", "lint"], CollectionOrdering.Matching);
        await Assert.That(byKey["report"].Runner).IsEqualTo(Runner.Host);
        await Assert.That(byKey["build"].Runner).IsEqualTo(Runner.Inherit);
        await Assert.That(byKey["report"].Label).IsEqualTo("Report results");
        await Assert.That(byKey["deps"].Label).IsEqualTo("Deps");
        await Assert.That(byKey["custom-key"].Image).IsEqualTo("debian:12");
        await Assert.That(byKey["lint"].Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CC", "gcc"), new("CFLAGS", "-O2 -DX=\"1\"")], CollectionOrdering.Matching);

        await Assert.That(byKey["deps"].ConstantCommand).IsEqualTo("apk add build-base");
        await Assert.That(byKey["custom-key"].ConstantCommand).IsEqualTo("./it.sh --all");
        await Assert.That(byKey["lint"].ConstantCommand).IsNull();
    }

    [Test]
    public async Task A_command_that_is_not_constant_runs_through_its_delegate()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        using var assembly = new GeneratedAssembly(run.Output);
        var steps = assembly.Catalog().Single().Steps.ToDictionary(s => s.Key);

        await Assert.That(steps["lint"].Command()).IsEqualTo($"make lint -j{Environment.ProcessorCount}");
        await Assert.That(steps["deps"].Command()).IsEqualTo("apk add build-base");
    }

    [Test]
    public async Task Nested_pipeline_keeps_its_namespace_modifiers_and_escaped_names()
    {
        var run = GeneratorHarness.Run(Samples.Nested);
        using var assembly = new GeneratedAssembly(run.Output);
        var release = assembly.Catalog().Single();

        await Assert.That(release.Runner).IsEqualTo(Runner.Docker);
        await Assert.That(release.Steps.Single().Key).IsEqualTo("class");
        await Assert.That(release.Steps.Single().Command()).IsEqualTo("echo keyword");
        await Assert.That(assembly.Assembly.GetType("Acme.Build.Pipelines+Release")).IsNotNull();
    }

    [Test]
    public async Task Empty_compilation_still_gets_an_empty_catalog()
    {
        var run = GeneratorHarness.Run("class Unrelated { }");
        await Assert.That(run.HintNames)
            .IsEquivalentTo((IEnumerable<string>)["Harmont.Aot.Generated.PipelineCatalog.g.cs"], CollectionOrdering.Matching);
        await Assert.That(run.CompilationProblems).IsEmpty();

        using var assembly = new GeneratedAssembly(run.Output);
        await Assert.That(assembly.Catalog()).IsEmpty();
    }

    [Test]
    public async Task Steps_in_another_partial_part_are_found_and_folded()
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
        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();

        using var assembly = new GeneratedAssembly(run.Output);
        var second = assembly.Catalog().Single().Steps[1];
        await Assert.That((second.Key, second.From, second.ConstantCommand)).IsEqualTo(("second", "first", "two!"));
    }

    [Test]
    public async Task Duplicate_slug_keeps_the_first_pipeline_in_the_catalog()
    {
        var run = GeneratorHarness.Run("""
            using Harmont.Aot;
            [Pipeline("ci")] static partial class First { [Step] static string A() => "first"; }
            [Pipeline("ci")] static partial class Second { [Step] static string A() => "second"; }
            """);
        await Assert.That(run.Diagnostics.Select(d => d.Id)).IsEquivalentTo((IEnumerable<string>)["HM0004"], CollectionOrdering.Matching);

        using var assembly = new GeneratedAssembly(run.Output);
        await Assert.That(assembly.Catalog().Single().Steps.Single().ConstantCommand).IsEqualTo("first");
    }
}
