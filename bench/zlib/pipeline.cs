#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// The Harmont side of bench/zlib/run.sh, over zlib's source on a Debian image with gcc. run.sh writes the
// BuildKit equivalents (Dockerfile.chain, Dockerfile.ccache) beside the source: keep the commands in step.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

// configure, then an incremental make, then make test: an edit to a .c file hits configure and recompiles one file.
[Pipeline("zlib", DefaultImage = "harmont-test/debian-gcc:12")]
static partial class Zlib
{
    [Step, CacheOnChange("configure", "Makefile.in", "zconf.h.in", "zlib.pc.in")]
    static string Configure() => "./configure";

    [Step(From = nameof(Configure), Incremental = true), CacheOnChange("*.c", "*.h", "Makefile.in", "configure")]
    static string Build() => "make -j2";

    [Step(From = nameof(Build)), CacheOnChange("*.c", "*.h", "test/**", "Makefile.in", "configure")]
    static string Test() => "make test";
}

// One uncached step that builds all of zlib through ccache, its cache kept in a cache mount.
[Pipeline("ccache", DefaultImage = "harmont-test/debian-gcc:12")]
static partial class Ccache
{
    [Step, CacheMount("/root/.cache/ccache", Id = "zlib-ccache")]
    static string Build() => "./configure >/dev/null && make -j2 CC='ccache gcc' >/dev/null && ccache -s | grep -E 'Hits|Misses' | tr -s ' ' | head -4";
}
