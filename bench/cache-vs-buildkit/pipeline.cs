#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// The Harmont side of bench/cache-vs-buildkit/run.sh: one root and 19 leaves forking from it, each leaf
// cached on its own package's files. The Dockerfile that run.sh writes next to the generated repo is the
// BuildKit equivalent (one stage per step). Keep the two in step: same commands, same image.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("bench", DefaultImage = "harmont-test/busybox:1")]
static partial class Bench
{
    [Step, CacheForever]
    static string Base() => "mkdir -p /opt/bench && echo base > /opt/bench/base.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg01/**")]
    static string Pkg01() => "cat src/pkg01/* | wc -c > out-pkg01.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg02/**")]
    static string Pkg02() => "cat src/pkg02/* | wc -c > out-pkg02.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg03/**")]
    static string Pkg03() => "cat src/pkg03/* | wc -c > out-pkg03.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg04/**")]
    static string Pkg04() => "cat src/pkg04/* | wc -c > out-pkg04.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg05/**")]
    static string Pkg05() => "cat src/pkg05/* | wc -c > out-pkg05.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg06/**")]
    static string Pkg06() => "cat src/pkg06/* | wc -c > out-pkg06.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg07/**")]
    static string Pkg07() => "cat src/pkg07/* | wc -c > out-pkg07.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg08/**")]
    static string Pkg08() => "cat src/pkg08/* | wc -c > out-pkg08.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg09/**")]
    static string Pkg09() => "cat src/pkg09/* | wc -c > out-pkg09.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg10/**")]
    static string Pkg10() => "cat src/pkg10/* | wc -c > out-pkg10.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg11/**")]
    static string Pkg11() => "cat src/pkg11/* | wc -c > out-pkg11.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg12/**")]
    static string Pkg12() => "cat src/pkg12/* | wc -c > out-pkg12.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg13/**")]
    static string Pkg13() => "cat src/pkg13/* | wc -c > out-pkg13.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg14/**")]
    static string Pkg14() => "cat src/pkg14/* | wc -c > out-pkg14.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg15/**")]
    static string Pkg15() => "cat src/pkg15/* | wc -c > out-pkg15.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg16/**")]
    static string Pkg16() => "cat src/pkg16/* | wc -c > out-pkg16.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg17/**")]
    static string Pkg17() => "cat src/pkg17/* | wc -c > out-pkg17.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg18/**")]
    static string Pkg18() => "cat src/pkg18/* | wc -c > out-pkg18.txt";

    [Step(From = nameof(Base)), CacheOnChange("src/pkg19/**")]
    static string Pkg19() => "cat src/pkg19/* | wc -c > out-pkg19.txt";
}
