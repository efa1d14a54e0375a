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

    /// <summary>Every capability of the DSL in one pipeline, for baselines, render and the definition hash.</summary>
    public const string Full = """
        using System;
        using Harmont.Aot;

        [Pipeline("full", DefaultImage = "alpine:3.20", Timeout = "1h", Project = "acme/full")]
        [Env("CI=true"), Env("LANG=C.UTF-8"), Secret("REGISTRY_TOKEN")]
        static partial class Full
        {
            [Step, CacheForever("ALPINE_MIRROR")]
            static string Deps() => "apk add build-base";

            [Step(From = nameof(Deps), Cwd = "src", Timeout = "15m"), CacheOnChange("src/**", "Makefile"), CacheTtl("7d")]
            static string Build() => "make -j";

            [Step(From = nameof(Build), Label = "Unit tests"), Env("LANG=en_US.UTF-8"), Env("CC=gcc")]
            static string Test() => "make test";

            [Step(From = nameof(Build)), Secret("NPM_TOKEN")]
            static string Lint() => $"make lint -j{Environment.ProcessorCount}";

            [Step(Key = "integration", Image = "debian:12", Runner = Runner.Docker, Timeout = "1h30m")]
            static string Integration() => "./it.sh";

            [Step(AfterAll = true, Runner = Runner.Host)]
            static string Report() => "echo done";
        }
        """;

    /// <summary>The README's example, verbatim: it must compile without a diagnostic.</summary>
    public const string Readme = """
        using System;
        using Harmont.Aot;

        [Pipeline("ci", DefaultImage = "alpine:3.20", Timeout = "1h")]
        [Env("CI=true")]                                   // pipeline-level env, for every step
        static partial class Ci
        {
            // A root step: runs in DefaultImage on a copy of your working tree.
            // Cached until the command or the value of $ALPINE_MIRROR changes.
            [Step, CacheForever("ALPINE_MIRROR")]
            static string Deps() => "apk add build-base nodejs npm";

            // From = lineage: starts from Deps' committed image *and* its output workspace.
            // Stacked policies compose: a hit only if no file under src/ or the Makefile changed, and within a week.
            [Step(From = nameof(Deps), Timeout = "15m"), CacheOnChange("src/**", "Makefile"), CacheTtl("7d")]
            static string Build() => "make -j";

            // Two children of one parent fork: they run at the same time and never see each other's writes.
            [Step(From = nameof(Build), Label = "Unit tests"), Env("CC=gcc")]
            static string Test() => "make test";

            [Step(From = nameof(Build), Cwd = "web"), Secret("NPM_TOKEN")]   // NPM_TOKEN comes from the runner's env, masked in logs
            static string Lint() => "npm run lint";

            // Another root, with its own image and backend and a key of its own.
            [Step(Key = "it", Image = "debian:12", Runner = Runner.Docker)]
            static string Integration() => "./integration.sh";

            // Incremental: when it executes, it starts from its own last output plus your edits, so make
            // recompiles only what changed. Only as correct as the tool's own incremental build: release
            // builds use --no-incremental. CacheMount: a directory kept across runs and keys, in no key or entry.
            [Step(From = nameof(Deps), Incremental = true), CacheMount("/root/.cache/ccache", Id = "ccache")]
            static string Compile() => "make -j CC='ccache gcc'";

            // After = ordering only: waits for both, carries no state. Commands need not be constants.
            [Step(After = [nameof(Test), nameof(Lint)], Runner = Runner.Host)]
            static string Report() => $"echo built on {Environment.MachineName}";

            // AfterAll = a wait barrier: starts once every step above has finished.
            [Step(AfterAll = true), CacheTtl("12h", "RELEASE_CHANNEL")]
            static string Publish() => "make publish";
        }
        """;
}
