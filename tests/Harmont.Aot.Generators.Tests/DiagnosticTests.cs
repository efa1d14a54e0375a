using Harmont.Aot.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Generators.Tests;

/// <summary>Each diagnostic: its ID, its severity and the exact span it points at.</summary>
[NotInParallel(nameof(DiagnosticTests))]
public sealed class DiagnosticTests
{
    private const DiagnosticSeverity Error = DiagnosticSeverity.Error;
    private const DiagnosticSeverity Warning = DiagnosticSeverity.Warning;

    [Test]
    public async Task HM0001_cycle_points_at_the_reference_that_closes_it_and_lists_the_path()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(After = [nameof(Test)])] static string Build() => "make";
                [Step(From = [|nameof(Build)|])] static string Test() => "make test";
            }
            """, ("HM0001", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null))
            .IsEqualTo("Steps of pipeline 'ci' depend on each other in a cycle: Build → Test → Build");
    }

    [Test]
    public async Task HM0001_after_naming_itself_is_a_cycle_of_one()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(After = new[] { [|"Build"|] })] static string Build() => "make";
            }
            """, ("HM0001", Error));
    }

    [Test]
    public async Task HM0002_unknown_step_points_at_the_from_argument_and_at_each_after_element()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step] static string Build() => "make";
                [Step(From = [|"Nope"|])] static string Test() => "make test";
                [Step(After = [nameof(Build), [|nameof(Helper)|]])] static string Lint() => "make lint";
                static string Helper() => "not a step";
            }
            """, ("HM0002", Error), ("HM0002", Error));
    }

    [Test]
    public async Task HM0003_duplicate_key_points_at_the_key_argument_or_at_the_attribute()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step] static string RunTests() => "make test";
                [Step(Key = [|"run-tests"|])] static string Other() => "make other";
                [Step(Key = "deps")] static string Fetch() => "make fetch";
                [[|Step|]] static string Deps() => "make deps";
            }
            """, ("HM0003", Error), ("HM0003", Error));
    }

    [Test]
    public async Task HM0004_duplicate_slug_points_at_the_second_slug_argument_across_files()
    {
        await DiagnosticAssert.Reports(
            [
                """
                using Harmont.Aot;
                [Pipeline("ci")] static partial class First { [Step] static string A() => "a"; }
                """,
                """
                using Harmont.Aot;
                [Pipeline([|"ci"|])] static partial class Second { [Step] static string A() => "a"; }
                """,
            ],
            ("HM0004", Error));
    }

    [Test]
    public async Task HM0005_wrong_step_shape_points_at_the_method_identifier()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step] static int [|Count|]() => 1;
                [Step] static string [|WithArg|](int n) => "x";
                [Step] static string? [|Maybe|]() => null;
                [Step] static string [|Generic|]<T>() => "x";
            }
            """, ("HM0005", Error), ("HM0005", Error), ("HM0005", Error), ("HM0005", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null)).Contains("it does not return string", StringComparison.Ordinal);
        await Assert.That(run.Diagnostics[2].GetMessage(null)).Contains("it returns a nullable string", StringComparison.Ordinal);
    }

    [Test]
    public async Task HM0005_instance_step_method_is_reported()
    {
        // The class is not static either, so HM0008 comes first in source order.
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            partial class [|Ci|]
            {
                [Step] string [|Build|]() => "make";
            }
            """, ("HM0008", Error), ("HM0005", Error));
    }

    [Test]
    public async Task HM0006_step_from_itself_points_at_the_from_argument()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(From = [|nameof(Build)|])] static string Build() => "make";
            }
            """, ("HM0006", Error));
    }

    [Test]
    public async Task HM0007_image_on_a_child_is_a_warning_at_the_image_argument_and_source_is_still_emitted()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(Image = "alpine")] static string Build() => "make";
                [Step(From = nameof(Build), Image = [|"debian"|])] static string Test() => "make test";
            }
            """, ("HM0007", Warning));

        await Assert.That(run.HintNames).Contains("Ci.g.cs");
        await Assert.That(run.CompilationProblems).IsEmpty();
    }

    [Test]
    public async Task HM0008_pipeline_class_must_be_static_partial_at_the_class_identifier()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("a")] static class [|NotPartial|] { [Step] static string A() => "a"; }
            [Pipeline("b")] partial class [|NotStatic|] { [Step] static string A() => "a"; }
            """, ("HM0008", Error), ("HM0008", Error));
    }

    [Test]
    public async Task HM0008_containing_type_must_be_partial_and_the_class_reachable_from_the_catalog()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            class [|Outer|]
            {
                [Pipeline("a")] internal static partial class Inner { [Step] static string A() => "a"; }
            }
            partial class Host
            {
                [Pipeline("b")] private static partial class [|Hidden|] { [Step] static string A() => "a"; }
            }
            """, ("HM0008", Error), ("HM0008", Error));
    }

    [Test]
    public async Task HM0009_malformed_env_points_at_the_env_argument()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step, Env([|"NOEQUALS"|]), Env([|"=value"|]), Env("OK=a=b")] static string Build() => "make";
            }
            """, ("HM0009", Error), ("HM0009", Error));
    }

    [Test]
    public async Task HM0009_malformed_pipeline_env_points_at_the_env_argument_on_the_class()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci"), Env("CI=true"), Env([|"CI"|])]
            static partial class Ci
            {
                [Step] static string Build() => "make";
            }
            """, ("HM0009", Error));
    }

    [Test]
    public async Task Pipeline_with_errors_emits_no_source_and_the_catalog_leaves_it_out()
    {
        var run = GeneratorHarness.Run("""
            using Harmont.Aot;
            [Pipeline("good")] static partial class Good { [Step] static string A() => "a"; }
            [Pipeline("bad")] static partial class Bad { [Step(From = "Nope")] static string A() => "a"; }
            """);

        await Assert.That(run.Diagnostics.Select(d => d.Id)).IsEquivalentTo((IEnumerable<string>)["HM0002"], CollectionOrdering.Matching);
        await Assert.That(run.HintNames)
            .IsEquivalentTo((IEnumerable<string>)["Good.g.cs", "Harmont.Aot.Generated.PipelineCatalog.g.cs"], CollectionOrdering.Matching);
        await Assert.That(run.Source("Harmont.Aot.Generated.PipelineCatalog.g.cs")).DoesNotContain("Bad", StringComparison.Ordinal);
        await Assert.That(run.CompilationProblems).IsEmpty();
    }

    [Test]
    public async Task Valid_pipeline_reports_nothing()
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Assert.That(run.CompilationProblems).IsEmpty();
    }
}
