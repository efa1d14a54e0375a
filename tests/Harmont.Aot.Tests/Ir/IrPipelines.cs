namespace Harmont.Aot.Tests;

// Pipelines the render, graph, list and key tests read; compiled by the real generator into `Definition`.

/// <summary>Every DSL feature at once.</summary>
[Pipeline("everything", DefaultImage = "alpine:3.20", Timeout = "1h")]
[Env("CI=true"), Secret("REGISTRY_TOKEN")]
internal static partial class Everything
{
    [Step, CacheForever("ALPINE_MIRROR")]
    private static string Deps() => "apk add build-base";

    [Step(From = nameof(Deps), Cwd = "src", Timeout = "15m"), CacheOnChange("src/**", "Makefile"), CacheTtl("7d")]
    private static string Build() => "make -j";

    [Step(From = nameof(Build), Label = "Unit \"tests\""), Env("CC=gcc")]
    private static string Test() => "make test";

    [Step(From = nameof(Build)), Secret("NPM_TOKEN")]
    private static string Lint() => $"make lint -j{Environment.ProcessorCount}";

    [Step(Key = "integration", Image = "debian:12", Runner = Runner.Docker, Timeout = "90s"), CacheTtl("12h", "NODE_VERSION")]
    private static string Integration() => "./it.sh";

    [Step(AfterAll = true, Runner = Runner.Host)]
    private static string Report() => "echo done";
}
