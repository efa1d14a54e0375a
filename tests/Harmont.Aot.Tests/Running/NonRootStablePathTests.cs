using System.Text.Json;
using Harmont.Aot.Ir;
using Harmont.Aot.Runners.Host;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>The stable path as a non-root user gets it (bubblewrap, in a user namespace): the real binary run as 'nobody'.</summary>
[Property("Requires", "root")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[NotInParallel(nameof(NonRootStablePathTests))]
public sealed class NonRootStablePathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-nobody-stable-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Non_root_steps_see_one_path_cold_and_after_a_hit_and_parallel_siblings_stay_apart(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var source = Directory.CreateDirectory(Path.Combine(_root, "src")).FullName;
        var cache = Directory.CreateDirectory(Path.Combine(_root, "cache")).FullName;
        var meet = Directory.CreateDirectory(Path.Combine(_root, "meet")).FullName;
        foreach (var dir in new[] { _root, source, cache, meet })
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }

        string Side(string me, string other) =>
            $"echo {me} > \"$PWD/who.txt\" && touch {meet}/{me} && " +
            $"i=0; while [ ! -e {meet}/{other} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; " +
            $"[ -e {meet}/{other} ] || {{ echo never-met; exit 3; }}; cat who.txt";
        var pipeline = Define.Pipeline(
            "nobody-stable",
            Runner.Host,
            Define.Cached("record", "pwd > recorded-pwd.txt && pwd", null, Define.Forever()),
            Define.Step("check", "pwd -P && test \"$(cat recorded-pwd.txt)\" = \"$(pwd -P)\" && echo same-as-parent", from: "record"),
            Define.Step("left", Side("left", "right"), from: "record"),
            Define.Step("right", Side("right", "left"), from: "record"));
        var ir = Path.Combine(_root, "pipeline.json");
        await File.WriteAllTextAsync(ir, IrWriter.Render(pipeline), cancellationToken);
        var stable = StableWorkspace.PathFor(Path.Combine(cache, "work"), "path:" + source, "nobody-stable");

        var cold = await RunAsNobodyAsync(published.Binary, ir, source, cache);
        foreach (var file in Directory.GetFiles(meet))
        {
            File.Delete(file);
        }

        var warm = await RunAsNobodyAsync(published.Binary, ir, source, cache);

        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.Output);
        await Assert.That(cold.Logs("record")).IsEquivalentTo((IEnumerable<string>)[stable], CollectionOrdering.Matching);
        await Assert.That(warm.ExitCode == 0).IsTrue().Because(warm.Output);
        foreach (var run in new[] { cold, warm })
        {
            await Assert.That(run.Logs("check")).IsEquivalentTo((IEnumerable<string>)[stable, "same-as-parent"], CollectionOrdering.Matching);
            await Assert.That(run.Logs("left")).IsEquivalentTo((IEnumerable<string>)["left"], CollectionOrdering.Matching);
            await Assert.That(run.Logs("right")).IsEquivalentTo((IEnumerable<string>)["right"], CollectionOrdering.Matching);
        }

        await Assert.That(warm.Logs("record")).IsEmpty();
    }

    private static async Task<NobodyRun> RunAsNobodyAsync(string binary, string ir, string source, string cache)
    {
        var (exitCode, output) = await Exec.RunAsync(
            "runuser",
            ["-u", "nobody", "--", "env", $"HARMONT_CACHE_DIR={cache}", binary, "run", "--ir", ir, "-j", "3", "--format", "json", "--repo", source],
            source,
            TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        return new NobodyRun(exitCode, output);
    }

    private sealed record NobodyRun(int ExitCode, string Output)
    {
        public IReadOnlyList<string> Logs(string step) =>
            [.. Output.Split('\n').Where(l => l.StartsWith('{')).Select(LogLine).Where(e => e.Step == step).Select(e => e.Line)];

        private static (string? Step, string Line) LogLine(string json)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return root.GetProperty("event").GetString() == "step_log"
                ? (root.GetProperty("step").GetString(), root.GetProperty("line").GetString()!)
                : (null, "");
        }
    }
}
