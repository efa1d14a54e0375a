#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// The Harmont side of bench/step-overhead/run.sh: ten trivial steps in one lineage chain, each writing one file.
// `chain` caches nothing (the last step is an uncached leaf); `cached` caches every step, as BuildKit does;
// `chain-none` and `chain-host` are `chain` with Network.None and Network.Host. The Dockerfile run.sh writes is
// the BuildKit twin: the same image, one RUN per step, the same commands.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("chain", DefaultImage = "harmont-test/busybox:1")]
static partial class Chain
{
    [Step]
    static string S01() => "echo 1 > f01";

    [Step(From = nameof(S01))]
    static string S02() => "echo 2 > f02";

    [Step(From = nameof(S02))]
    static string S03() => "echo 3 > f03";

    [Step(From = nameof(S03))]
    static string S04() => "echo 4 > f04";

    [Step(From = nameof(S04))]
    static string S05() => "echo 5 > f05";

    [Step(From = nameof(S05))]
    static string S06() => "echo 6 > f06";

    [Step(From = nameof(S06))]
    static string S07() => "echo 7 > f07";

    [Step(From = nameof(S07))]
    static string S08() => "echo 8 > f08";

    [Step(From = nameof(S08))]
    static string S09() => "echo 9 > f09";

    [Step(From = nameof(S09))]
    static string S10() => "echo 10 > f10";
}

[Pipeline("cached", DefaultImage = "harmont-test/busybox:1")]
static partial class Cached
{
    [Step, CacheForever]
    static string S01() => "echo 1 > f01";

    [Step(From = nameof(S01)), CacheForever]
    static string S02() => "echo 2 > f02";

    [Step(From = nameof(S02)), CacheForever]
    static string S03() => "echo 3 > f03";

    [Step(From = nameof(S03)), CacheForever]
    static string S04() => "echo 4 > f04";

    [Step(From = nameof(S04)), CacheForever]
    static string S05() => "echo 5 > f05";

    [Step(From = nameof(S05)), CacheForever]
    static string S06() => "echo 6 > f06";

    [Step(From = nameof(S06)), CacheForever]
    static string S07() => "echo 7 > f07";

    [Step(From = nameof(S07)), CacheForever]
    static string S08() => "echo 8 > f08";

    [Step(From = nameof(S08)), CacheForever]
    static string S09() => "echo 9 > f09";

    [Step(From = nameof(S09)), CacheForever]
    static string S10() => "echo 10 > f10";
}

[Pipeline("chain-none", DefaultImage = "harmont-test/busybox:1")]
static partial class ChainNone
{
    [Step(Network = Network.None)]
    static string S01() => "echo 1 > f01";

    [Step(From = nameof(S01), Network = Network.None)]
    static string S02() => "echo 2 > f02";

    [Step(From = nameof(S02), Network = Network.None)]
    static string S03() => "echo 3 > f03";

    [Step(From = nameof(S03), Network = Network.None)]
    static string S04() => "echo 4 > f04";

    [Step(From = nameof(S04), Network = Network.None)]
    static string S05() => "echo 5 > f05";

    [Step(From = nameof(S05), Network = Network.None)]
    static string S06() => "echo 6 > f06";

    [Step(From = nameof(S06), Network = Network.None)]
    static string S07() => "echo 7 > f07";

    [Step(From = nameof(S07), Network = Network.None)]
    static string S08() => "echo 8 > f08";

    [Step(From = nameof(S08), Network = Network.None)]
    static string S09() => "echo 9 > f09";

    [Step(From = nameof(S09), Network = Network.None)]
    static string S10() => "echo 10 > f10";
}

[Pipeline("chain-host", DefaultImage = "harmont-test/busybox:1")]
static partial class ChainHost
{
    [Step(Network = Network.Host)]
    static string S01() => "echo 1 > f01";

    [Step(From = nameof(S01), Network = Network.Host)]
    static string S02() => "echo 2 > f02";

    [Step(From = nameof(S02), Network = Network.Host)]
    static string S03() => "echo 3 > f03";

    [Step(From = nameof(S03), Network = Network.Host)]
    static string S04() => "echo 4 > f04";

    [Step(From = nameof(S04), Network = Network.Host)]
    static string S05() => "echo 5 > f05";

    [Step(From = nameof(S05), Network = Network.Host)]
    static string S06() => "echo 6 > f06";

    [Step(From = nameof(S06), Network = Network.Host)]
    static string S07() => "echo 7 > f07";

    [Step(From = nameof(S07), Network = Network.Host)]
    static string S08() => "echo 8 > f08";

    [Step(From = nameof(S08), Network = Network.Host)]
    static string S09() => "echo 9 > f09";

    [Step(From = nameof(S09), Network = Network.Host)]
    static string S10() => "echo 10 > f10";
}
