using System.Collections;
using Harmont.Aot.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using TUnit.Assertions.Enums;
using Names = Harmont.Aot.Generators.PipelineGenerator.TrackingNames;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The pipeline caches: equal input gives equal models, and unrelated edits regenerate nothing.</summary>
[NotInParallel(nameof(IncrementalityTests))]
public sealed class IncrementalityTests
{
    private static readonly string[] TrackedSteps = [Names.Parse, Names.Specs, Names.Diagnostics, Names.SlugDiagnostics, Names.Catalog];

    private const string Unrelated = "static class Helper { static int Compute() => 1; }";

    [Test]
    public async Task Equal_input_parses_to_equal_models()
    {
        var first = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full);
        var second = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full);

        foreach (var name in TrackedSteps)
        {
            var a = Outputs(first, name);
            var b = Outputs(second, name);
            await Assert.That(a).IsNotEmpty();
            await Assert.That(b).IsEquivalentTo(a, CollectionOrdering.Matching);
            await Assert.That(b.Select(v => v?.GetHashCode())).IsEquivalentTo(a.Select(v => v?.GetHashCode()), CollectionOrdering.Matching);
        }

        // Two parses of the same text must not share instances, or the equality above proves nothing.
        await Assert.That(Outputs(second, Names.Parse)[0]).IsNotSameReferenceAs(Outputs(first, Names.Parse)[0]);
    }

    [Test]
    public async Task Models_hold_no_symbols_syntax_or_compilations()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full, "using Harmont.Aot; [Pipeline(\"x\")] static partial class X { [Step(From = \"Nope\")] static string A() => \"a\"; }");
        foreach (var name in TrackedSteps)
        {
            foreach (var value in Outputs(run, name))
            {
                await AssertPlainData(value, name);
            }
        }
    }

    [Test]
    public async Task Adding_an_unrelated_file_leaves_every_step_cached()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        var rerun = GeneratorHarness.Run(run.Driver, run.Input.AddSyntaxTrees(GeneratorHarness.Tree(Unrelated, 1)));

        await AssertCachedOrUnchanged(rerun, TrackedSteps);
    }

    [Test]
    public async Task Adding_an_unrelated_file_leaves_the_pipeline_with_every_feature_cached()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        var rerun = GeneratorHarness.Run(run.Driver, run.Input.AddSyntaxTrees(GeneratorHarness.Tree(Unrelated, 1)));

        await AssertCachedOrUnchanged(rerun, TrackedSteps);
    }

    [Test]
    public async Task Changing_a_cache_policy_regenerates_the_pipeline_but_not_the_catalog()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Full.Replace("CacheTtl(\"7d\")", "CacheTtl(\"1d\")", StringComparison.Ordinal), 0));
        var rerun = GeneratorHarness.Run(run.Driver, edited);

        await Assert.That(Reasons(rerun, Names.Specs)).Contains(IncrementalStepRunReason.Modified);
        await AssertCachedOrUnchanged(rerun, Names.Catalog);
        await Assert.That(rerun.Source("Full.g.cs")).Contains("/* 1d */", StringComparison.Ordinal);
    }

    [Test]
    public async Task Editing_an_unrelated_method_body_leaves_every_step_cached()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Unrelated);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.ElementAt(1),
            GeneratorHarness.Tree(Unrelated.Replace("=> 1", "=> 2", StringComparison.Ordinal), 1));

        await AssertCachedOrUnchanged(GeneratorHarness.Run(run.Driver, edited), TrackedSteps);
    }

    [Test]
    public async Task Editing_a_method_after_the_pipeline_in_its_own_file_leaves_every_step_unchanged()
    {
        var run = GeneratorHarness.Run(Samples.Ci + Unrelated);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Ci + Unrelated.Replace("=> 1", "=> 2", StringComparison.Ordinal), 0));

        await AssertCachedOrUnchanged(GeneratorHarness.Run(run.Driver, edited), TrackedSteps);
    }

    [Test]
    public async Task Moving_a_pipeline_down_moves_its_diagnostics_but_regenerates_no_source()
    {
        const string Source = """
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step] static string Build() => "make";
                [Step(From = nameof(Build), Image = "debian")] static string Test() => "make test";
            }
            """;
        var run = GeneratorHarness.Run(Source);
        var moved = GeneratorHarness.Run(run.Driver, run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(), GeneratorHarness.Tree("\n\n" + Source, 0)));

        await AssertCachedOrUnchanged(moved, Names.Specs, Names.Catalog);
        await Assert.That(Reasons(moved, Names.Diagnostics)).Contains(IncrementalStepRunReason.Modified);
        await Assert.That(moved.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line)
            .IsEqualTo(run.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line + 2);
    }

    [Test]
    public async Task Changing_a_command_regenerates_the_pipeline_but_not_the_catalog()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Ci.Replace("make test", "make check", StringComparison.Ordinal), 0));
        var rerun = GeneratorHarness.Run(run.Driver, edited);

        await Assert.That(Reasons(rerun, Names.Specs)).Contains(IncrementalStepRunReason.Modified);
        await AssertCachedOrUnchanged(rerun, Names.Catalog);
        await Assert.That(rerun.Source("Ci.g.cs")).Contains("make check", StringComparison.Ordinal);
    }

    private static List<object?> Outputs(GeneratorRun run, string step) =>
        [.. run.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Value)];

    private static List<IncrementalStepRunReason> Reasons(GeneratorRun run, string step) =>
        [.. run.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason)];

    private static async Task AssertCachedOrUnchanged(GeneratorRun run, params string[] steps)
    {
        foreach (var step in steps)
        {
            await Assert.That(run.Result.TrackedSteps.ContainsKey(step)).IsTrue().Because($"Step {step} was not tracked in the second run.");
            foreach (var reason in Reasons(run, step))
            {
                await Assert.That(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)
                    .IsTrue()
                    .Because($"Step {step} reported {reason}; an unrelated edit must not change the model.");
            }
        }
    }

    /// <summary>Walks a model value: symbols, syntax and compilations in it would defeat caching and pin memory.</summary>
    private static async Task AssertPlainData(object? value, string path)
    {
        if (value is null or string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        await Assert.That(value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location)
            .IsFalse()
            .Because($"{path} holds a {value.GetType().Name}");

        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                await AssertPlainData(item, $"{path}[{i++}]");
            }

            return;
        }

        // Roslyn value types such as TextSpan and DiagnosticDescriptor are plain data already.
        if (value.GetType().Assembly != typeof(PipelineGenerator).Assembly)
        {
            return;
        }

        foreach (var property in value.GetType().GetProperties())
        {
            if (property.GetIndexParameters().Length == 0)
            {
                await AssertPlainData(property.GetValue(value), $"{path}.{property.Name}");
            }
        }
    }
}
