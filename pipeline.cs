#:project src/Harmont.Aot/Harmont.Aot.csproj

// This repository's own CI, run by our own runner: `dotnet run pipeline.cs`.
// In CI the same file is published as a native-AOT binary (see the publish-aot step).
using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

// The steps need the host's .NET SDK, and no registry is reachable here to pull an SDK image,
// so this pipeline pins the host runner. Build once; test and AOT-publish fork from its output.
// Every step is cached: a re-run with no change to what the build reads is all hits, and an edit
// to the README alone re-runs nothing.
[Pipeline("ci", Runner = Runner.Host)]
static partial class Ci
{
    [Step, Env("DOTNET_CLI_TELEMETRY_OPTOUT=1")]
    [CacheOnChange("src/**", "generators/**", "tests/**", "bench/**", "*.props", "*.sln", "global.json", "pipeline.cs")]
    static string Build() => "dotnet build Harmont.Aot.sln -c Release -nologo";

    // The tests that need only the SDK; tests/run.sh runs the whole suite with Docker, XFS, fuse and mounts.
    // TUnit filters on the test tree (assembly/namespace/class/method) and on [Property] values at the method.
    [Step(From = nameof(Build)), Env("DOTNET_CLI_TELEMETRY_OPTOUT=1"), CacheForever]
    static string Test() => "dotnet test --solution Harmont.Aot.sln -c Release --no-build --no-progress --treenode-filter '/*/*/*/*[(Requires!=docker)&(Requires!=root)]'";

    // The pipeline itself as a single native binary: a file-based program publishes AOT by default, and
    // Directory.Build.props makes any IL2xxx/IL3xxx (trim/AOT) warning an error, so this step fails on one.
    [Step(From = nameof(Build)), Env("DOTNET_CLI_TELEMETRY_OPTOUT=1"), CacheForever]
    static string PublishAot() => "dotnet publish pipeline.cs -o artifacts/aot -nologo && ./artifacts/aot/pipeline list";
}
