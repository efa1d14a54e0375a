#:project ../../src/Harmont.Aot/Harmont.Aot.csproj

// The pipeline bench/remote-push/run.sh times with a shared cache: a root that changes the system of a 330 MB Debian
// image and a child that changes only its workspace, so both entries name the same image. ROUND is a key of both, so
// each round records new entries.
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("push", DefaultImage = "harmont-test/debian-gcc:12")]
static partial class Push
{
    [Step, CacheForever("ROUND")]
    static string Sys() => "echo sys > sys.out && echo \"$ROUND\" > /etc/harmont-round";

    [Step(From = nameof(Sys)), CacheForever("ROUND")]
    static string Leaf() => "cat sys.out > leaf.out";
}
