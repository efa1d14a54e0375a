using Harmont.Aot.Generators.Tests.Support;
using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Tests;

/// <summary>The diagnostics of cache policies, secrets, timeouts and working directories: ID, severity and exact span.</summary>
[NotInParallel(nameof(SettingDiagnosticTests))]
public sealed class SettingDiagnosticTests
{
    private const DiagnosticSeverity Error = DiagnosticSeverity.Error;

    [Test]
    public async Task HM0010_ttl_that_is_not_positive_or_not_a_duration_points_at_the_duration()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step, CacheTtl([|"0s"|])] static string A() => "a";
                [Step, CacheTtl([|"-1h"|], "HOME")] static string B() => "b";
                [Step, CacheTtl([|"soon"|])] static string C() => "c";
                [Step, CacheTtl("1d"), CacheTtl("00:30:00")] static string D() => "d";
            }
            """, ("HM0010", Error), ("HM0010", Error), ("HM0010", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null))
            .IsEqualTo("CacheTtl \"0s\" is not positive; write a positive duration such as \"30m\", \"12h\" or \"7d\"");
        await Assert.That(run.Diagnostics[2].GetMessage(null)).Contains("is not a duration", StringComparison.Ordinal);
    }

    [Test]
    public async Task HM0011_empty_or_malformed_glob_points_at_the_glob()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step, CacheOnChange("src/**", [|""|])] static string A() => "a";
                [Step, CacheOnChange([|"/etc/passwd"|], [|"../up/*.cs"|])] static string B() => "b";
                [Step, CacheOnChange([|"src/**.cs"|], [|"src/[ab"|], "docs/{a,b}.md")] static string C() => "c";
                [Step, CacheOnChange(new[] { "ok/*", [|"bad//path"|] })] static string D() => "d";
            }
            """, ("HM0011", Error), ("HM0011", Error), ("HM0011", Error), ("HM0011", Error), ("HM0011", Error), ("HM0011", Error));
    }

    [Test]
    public async Task HM0011_on_change_without_any_glob_points_at_the_attribute()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step, [|CacheOnChange|]] static string A() => "a";
            }
            """, ("HM0011", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null)).Contains("list is empty", StringComparison.Ordinal);
    }

    [Test]
    public async Task HM0012_secret_listed_as_a_cache_env_key_points_at_the_env_key()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci"), Secret("PIPELINE_TOKEN")]
            static partial class Ci
            {
                [Step, Secret("NPM_TOKEN"), CacheForever("NODE_VERSION", [|"NPM_TOKEN"|])] static string A() => "a";
                [Step, CacheTtl("1d", [|"PIPELINE_TOKEN"|])] static string B() => "b";
            }
            """, ("HM0012", Error), ("HM0012", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null))
            .IsEqualTo("'NPM_TOKEN' is a secret of step 'A' and is also a cache env key, which would put its value into the cache key; remove it from the env keys");
    }

    [Test]
    public async Task HM0012_secret_also_set_by_env_points_at_the_env_or_the_step_secret()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci"), Env("SHARED=1"), Env([|"BOTH=1"|]), Secret("BOTH")]
            static partial class Ci
            {
                [Step, Secret("TOKEN"), Env([|"TOKEN=plain"|])] static string A() => "a";
                [Step, Secret([|"SHARED"|])] static string B() => "b";
            }
            """, ("HM0012", Error), ("HM0012", Error), ("HM0012", Error));
    }

    [Test]
    public async Task HM0013_timeout_that_is_not_positive_or_not_a_duration_points_at_the_timeout()
    {
        var run = await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci", Timeout = [|"0m"|])]
            static partial class Ci
            {
                [Step(Timeout = [|"ten minutes"|])] static string A() => "a";
                [Step(Timeout = "90s")] static string B() => "b";
            }
            """, ("HM0013", Error), ("HM0013", Error));

        await Assert.That(run.Diagnostics[0].GetMessage(null))
            .IsEqualTo("Timeout \"0m\" is not positive; write a positive duration such as \"90s\", \"15m\" or \"1h\"");
    }

    [Test]
    public async Task HM0014_cwd_outside_the_workspace_points_at_the_cwd()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(Cwd = [|"/usr/src"|])] static string A() => "a";
                [Step(Cwd = [|"src/../.."|])] static string B() => "b";
                [Step(Cwd = [|""|])] static string C() => "c";
                [Step(Cwd = "src/app")] static string D() => "d";
            }
            """, ("HM0014", Error), ("HM0014", Error), ("HM0014", Error));
    }

    [Test]
    public async Task HM0015_secret_or_env_key_that_is_not_a_variable_name_points_at_it()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci"), Secret([|"1TOKEN"|])]
            static partial class Ci
            {
                [Step, Secret([|"NPM-TOKEN"|]), CacheForever("OK_1", [|"A=B"|])] static string A() => "a";
            }
            """, ("HM0015", Error), ("HM0015", Error), ("HM0015", Error));
    }

    [Test]
    public async Task HM0001_a_barrier_below_a_step_that_waits_for_it_is_a_cycle_at_the_barrier()
    {
        await DiagnosticAssert.Reports("""
            using Harmont.Aot;
            [Pipeline("ci")]
            static partial class Ci
            {
                [Step(After = [nameof(Report)])] static string Build() => "make";
                [Step(AfterAll = [|true|])] static string Report() => "echo done";
            }
            """, ("HM0001", Error));
    }
}
