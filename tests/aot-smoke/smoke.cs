#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// A small pipeline that the test suite publishes as a native-AOT binary and runs against Docker.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("smoke", DefaultImage = "harmont-test/busybox:1")]
static partial class Smoke
{
    [Step]
    static string Prepare() => "echo prepared > prepared.txt && echo system-state > /etc/smoke-mark";

    [Step(From = nameof(Prepare))]
    static string Left() => "cat prepared.txt /etc/smoke-mark && echo left";

    // Not a compile-time constant: the generated code calls the method at run time.
    [Step(From = nameof(Prepare)), Env("WHO=aot")]
    static string Right() => $"cat prepared.txt && echo \"right by $WHO on {Environment.OSVersion.Platform}\"";
}

// A run that is still going when the signal tests interrupt it.
[Pipeline("sleepy", DefaultImage = "harmont-test/busybox:1")]
static partial class Sleepy
{
    [Step]
    static string Prepare() => "echo prepared > prepared.txt && echo ready";

    [Step(From = nameof(Prepare))]
    static string Wait() => "echo waiting && sleep 300";

    [Step(From = nameof(Prepare))]
    static string Tick() => "for i in $(seq 1 300); do echo tick $i; sleep 1; done";
}

// Cached steps that concurrent processes race to record. The host runner: they touch only their workspace.
[Pipeline("cached", Runner = Runner.Host)]
static partial class CachedSteps
{
    [Step, CacheOnChange("src/**")]
    static string Build() => "sleep 1 && cat src/*.txt > built.txt && echo built";

    [Step(From = nameof(Build)), CacheForever]
    static string Package() => "cat built.txt > package.txt && echo packaged";
}

// Cached Docker steps in a chain, run in a loop beside 'cache prune --max-size 1B' and 'cache clean'.
[Pipeline("churn", DefaultImage = "harmont-test/busybox:1", Runner = Runner.Docker)]
static partial class Churn
{
    [Step, CacheForever]
    static string Base() => "echo base > base.txt && echo base > /base-mark";

    [Step(From = nameof(Base)), CacheForever]
    static string Mid() => "cat base.txt /base-mark > mid.txt && echo mid > /mid-mark";

    [Step(From = nameof(Mid))]
    static string Use() => "cat mid.txt /mid-mark";
}

// A run to kill -9 mid-step: a cached step published, an uncached parent's snapshot, a container still running.
[Pipeline("killable", DefaultImage = "harmont-test/busybox:1", Runner = Runner.Docker)]
static partial class Killable
{
    [Step, CacheForever]
    static string Kept() => "echo kept > kept.txt && echo kept > /kept-mark";

    [Step(From = nameof(Kept))]
    static string Between() => "echo between > /between-mark";

    [Step(From = nameof(Between))]
    static string Hang() => "echo hanging && sleep 300";
}

// A cached step whose push the shared-cache tests catch mid-way: its line comes two seconds before it ends.
[Pipeline("pushy", Runner = Runner.Host)]
static partial class Pushy
{
    [Step, CacheForever]
    static string Write() => "echo data > data.txt && echo written && sleep 2";
}
