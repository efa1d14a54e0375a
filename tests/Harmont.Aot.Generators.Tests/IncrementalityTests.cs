using System.Collections;
using Harmont.Aot.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;
using Names = Harmont.Aot.Generators.PipelineGenerator.TrackingNames;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The pipeline caches: equal input gives equal models, and unrelated edits regenerate nothing.</summary>
public sealed class IncrementalityTests
{
    private static readonly string[] TrackedSteps = [Names.Parse, Names.Specs, Names.Diagnostics, Names.SlugDiagnostics, Names.Catalog];

    private const string Unrelated = "static class Helper { static int Compute() => 1; }";

    [Fact]
    public void Equal_input_parses_to_equal_models()
    {
        var first = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full);
        var second = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full);

        foreach (var name in TrackedSteps)
        {
            var a = Outputs(first, name);
            var b = Outputs(second, name);
            Assert.NotEmpty(a);
            Assert.Equal(a, b);
            Assert.Equal(a.Select(v => v?.GetHashCode()), b.Select(v => v?.GetHashCode()));
        }

        // Two parses of the same text must not share instances, or the equality above proves nothing.
        Assert.NotSame(Outputs(first, Names.Parse)[0], Outputs(second, Names.Parse)[0]);
    }

    [Fact]
    public void Models_hold_no_symbols_syntax_or_compilations()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Samples.Nested, Samples.Full, "using Harmont.Aot; [Pipeline(\"x\")] static partial class X { [Step(From = \"Nope\")] static string A() => \"a\"; }");
        foreach (var name in TrackedSteps)
        {
            foreach (var value in Outputs(run, name))
            {
                AssertPlainData(value, name);
            }
        }
    }

    [Fact]
    public void Adding_an_unrelated_file_leaves_every_step_cached()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        var rerun = GeneratorHarness.Run(run.Driver, run.Input.AddSyntaxTrees(GeneratorHarness.Tree(Unrelated, 1)));

        AssertCachedOrUnchanged(rerun, TrackedSteps);
    }

    [Fact]
    public void Adding_an_unrelated_file_leaves_the_pipeline_with_every_feature_cached()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        var rerun = GeneratorHarness.Run(run.Driver, run.Input.AddSyntaxTrees(GeneratorHarness.Tree(Unrelated, 1)));

        AssertCachedOrUnchanged(rerun, TrackedSteps);
    }

    [Fact]
    public void Changing_a_cache_policy_regenerates_the_pipeline_but_not_the_catalog()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Full.Replace("CacheTtl(\"7d\")", "CacheTtl(\"1d\")", StringComparison.Ordinal), 0));
        var rerun = GeneratorHarness.Run(run.Driver, edited);

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(rerun, Names.Specs));
        AssertCachedOrUnchanged(rerun, Names.Catalog);
        Assert.Contains("/* 1d */", rerun.Source("Full.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_an_unrelated_method_body_leaves_every_step_cached()
    {
        var run = GeneratorHarness.Run(Samples.Ci, Unrelated);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.ElementAt(1),
            GeneratorHarness.Tree(Unrelated.Replace("=> 1", "=> 2", StringComparison.Ordinal), 1));

        AssertCachedOrUnchanged(GeneratorHarness.Run(run.Driver, edited), TrackedSteps);
    }

    [Fact]
    public void Editing_a_method_after_the_pipeline_in_its_own_file_leaves_every_step_unchanged()
    {
        var run = GeneratorHarness.Run(Samples.Ci + Unrelated);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Ci + Unrelated.Replace("=> 1", "=> 2", StringComparison.Ordinal), 0));

        AssertCachedOrUnchanged(GeneratorHarness.Run(run.Driver, edited), TrackedSteps);
    }

    [Fact]
    public void Moving_a_pipeline_down_moves_its_diagnostics_but_regenerates_no_source()
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

        AssertCachedOrUnchanged(moved, Names.Specs, Names.Catalog);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(moved, Names.Diagnostics));
        Assert.Equal(
            run.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line + 2,
            moved.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line);
    }

    [Fact]
    public void Changing_a_command_regenerates_the_pipeline_but_not_the_catalog()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        var edited = run.Input.ReplaceSyntaxTree(
            run.Input.SyntaxTrees.Single(),
            GeneratorHarness.Tree(Samples.Ci.Replace("make test", "make check", StringComparison.Ordinal), 0));
        var rerun = GeneratorHarness.Run(run.Driver, edited);

        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(rerun, Names.Specs));
        AssertCachedOrUnchanged(rerun, Names.Catalog);
        Assert.Contains("make check", rerun.Source("Ci.g.cs"), StringComparison.Ordinal);
    }

    private static List<object?> Outputs(GeneratorRun run, string step) =>
        [.. run.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Value)];

    private static List<IncrementalStepRunReason> Reasons(GeneratorRun run, string step) =>
        [.. run.Result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason)];

    private static void AssertCachedOrUnchanged(GeneratorRun run, params string[] steps)
    {
        foreach (var step in steps)
        {
            Assert.True(run.Result.TrackedSteps.ContainsKey(step), $"Step {step} was not tracked in the second run.");
            foreach (var reason in Reasons(run, step))
            {
                Assert.True(
                    reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"Step {step} reported {reason}; an unrelated edit must not change the model.");
            }
        }
    }

    /// <summary>Walks a model value: symbols, syntax and compilations in it would defeat caching and pin memory.</summary>
    private static void AssertPlainData(object? value, string path)
    {
        if (value is null or string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        Assert.False(
            value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location,
            $"{path} holds a {value.GetType().Name}");

        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertPlainData(item, $"{path}[{i++}]");
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
                AssertPlainData(property.GetValue(value), $"{path}.{property.Name}");
            }
        }
    }
}
