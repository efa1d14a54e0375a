namespace Harmont.Aot.Generators.Tests;

/// <summary>Representative user pipelines shared by the tests.</summary>
public static class Samples
{
    /// <summary>The DSL example: fork, env, a non-constant command, ordering-only deps, a runner override.</summary>
    public const string Ci = """
        using System;
        using Harmont.Aot;

        [Pipeline("ci", DefaultImage = "alpine:3.20")]
        static partial class Ci
        {
            [Step] static string Deps() => "apk add build-base";
            [Step(From = nameof(Deps))] static string Build() => "make -j";
            [Step(From = nameof(Build))] static string Test() => "make test";
            [Step(From = nameof(Build)), Env("CC=gcc"), Env("CFLAGS=-O2 -DX=\"1\"")] static string Lint() => $"make lint -j{Environment.ProcessorCount}";
            [Step(After = [nameof(Test), nameof(Lint)], Runner = Runner.Host, Label = "Report results")] static string Report() => "echo done";
            [Step(Key = "custom-key", Image = "debian:12")] static string RunIntegrationTests() { return "./it.sh" + " --all"; }
        }
        """;

    /// <summary>A pipeline inside a namespace and a containing type, with explicit modifiers.</summary>
    public const string Nested = """
        using Harmont.Aot;

        namespace Acme.Build
        {
            /// <summary>Release pipelines.</summary>
            public static partial class Pipelines
            {
                [Pipeline("release", Runner = Runner.Docker)]
                internal static partial class Release
                {
                    [Step] static string @class() => "echo keyword";
                }
            }
        }
        """;
}
