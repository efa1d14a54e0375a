#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// Pipelines whose single step floods stdout with 1 GiB, for measure-log-memory.sh. Each runs in
// Docker through the real CLI, scheduler, events and plain renderer, so the measured peak RSS is
// the whole product's.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

// 1 GiB as ~10.6 million 101-byte lines: the per-line path (split, event, render).
[Pipeline("lines", DefaultImage = "harmont-test/busybox:1")]
static partial class Lines
{
    [Step]
    static string Flood() =>
        "yes 'the quick brown fox jumps over the lazy dog; the quick brown fox jumps over the lazy dog; 0123456789ab' | head -c 1073741824";
}

// 1 GiB with no newline at all: one endless line, which must be cut into pieces, never held whole.
[Pipeline("oneline", DefaultImage = "harmont-test/busybox:1")]
static partial class OneLine
{
    [Step]
    static string Flood() => "head -c 1073741824 /dev/zero | tr '\\0' 'x'";
}

// 1 GiB of random bytes: invalid UTF-8, NULs and control characters, lines of random length.
[Pipeline("binary", DefaultImage = "harmont-test/busybox:1")]
static partial class Binary
{
    [Step]
    static string Flood() => "head -c 1073741824 /dev/urandom";
}
