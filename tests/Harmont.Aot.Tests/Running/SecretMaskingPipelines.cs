namespace Harmont.Aot.Tests;

// Pipelines for SecretMaskingTests, compiled by the real generator.

[Pipeline("multi-line-secret", Runner = Runner.Host)]
internal static partial class MultiLineSecret
{
    [Step, Secret("HM_TEST_MULTI_SECRET")]
    private static string Print() => "echo \"$HM_TEST_MULTI_SECRET\" && echo \"$HM_TEST_MULTI_SECRET\" >&2";
}

// Each line is a run of x's and then the secret, the secret starting at every offset from 65,520 to
// 65,540: across the 64 Ki-char point where a long line is cut into pieces.
[Pipeline("straddling-secret-host", Runner = Runner.Host)]
internal static partial class StraddlingSecretHost
{
    [Step, Secret("HM_TEST_CHUNK_SECRET")]
    private static string Print() => StraddlingSecret.Command;
}

[Pipeline("straddling-secret-docker", DefaultImage = BusyboxImage.Image, Runner = Runner.Docker)]
internal static partial class StraddlingSecretDocker
{
    [Step, Secret("HM_TEST_CHUNK_SECRET")]
    private static string Print() => StraddlingSecret.Command;
}

internal static class StraddlingSecret
{
    public const int FirstOffset = 65_520;
    public const int LastOffset = 65_540;

    public const string Command =
        "for n in $(seq 65520 65540); do head -c $n /dev/zero | tr '\\0' x; echo \"$HM_TEST_CHUNK_SECRET\"; done";
}

[Pipeline("long-line-host", Runner = Runner.Host)]
internal static partial class LongLineHost
{
    [Step]
    private static string Print() => "head -c 200000 /dev/zero | tr '\\0' x; echo; echo done";
}

// Any run at all: its start is when leftovers of killed runs are collected.
[Pipeline("later-run", Runner = Runner.Host)]
internal static partial class LaterRun
{
    [Step]
    private static string Noop() => "true";
}
