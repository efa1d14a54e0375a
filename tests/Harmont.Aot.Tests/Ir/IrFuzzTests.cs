using System.Globalization;
using Harmont.Aot.Events;
using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Ir.HarmontPyDocuments;

namespace Harmont.Aot.Tests.Ir;

/// <summary>
/// Hostile IR through the real command line: mutants of valid documents (<see cref="IrMutator"/>) given to
/// <c>explain --ir</c> and <c>run --ir</c> on the host backend, and what loads given to <c>render</c>. Every one
/// ends in exit 0 or 2 with one-line errors, never an unhandled exception. Seeded: 300 mutants here,
/// <c>HARMONT_FUZZ_SOAK=N</c> for N, <c>HARMONT_FUZZ_SEED=S</c> to replay a failure from the seed it printed.
/// </summary>
[NotInParallel(nameof(IrFuzzTests))]
public sealed class IrFuzzTests : IDisposable
{
    private const int DefaultSeed = 20_261_121;

    private readonly RunHarness _harness = new();

    public IrFuzzTests()
    {
        WriteCiSources(_harness);
        _harness.WriteSource("sub/dir/marker", "here\n");
        _harness.WriteSource("src/a.c", "int a;\n");
        _harness.WriteSource("Makefile", "all:\n");
        _harness.Env["NPM_TOKEN"] = "npm-secret";
        _harness.Env["REGISTRY_TOKEN"] = "registry-secret";
    }

    public void Dispose() => _harness.Dispose();

    /// <summary>Valid documents in every shape this runner reads; each must itself run.</summary>
    private static readonly string[] Seeds = [.. new[]
    {
        Ci,
        Nightly,

        // harmont-py's graph lowering: baseline env on every node, default_image on roots, waits as depends_on edges.
        """{"version": "0", "default_image": "alpine:3.20", "timeout_seconds": 1800, "graph": {"nodes": [{"step": {"key": "deps", "cmd": "true", "label": "deps", "cache": {"policy": "forever", "env_keys": ["CI"], "key": "00"}, "image": "alpine:3.20"}, "env": {"DEBIAN_FRONTEND": "noninteractive", "TERM": "dumb", "CI": "true"}}, {"step": {"key": "build", "cmd": "true", "cache": {"policy": "compose", "sub_policies": [{"policy": "on_change", "paths": ["app", "VERSION"]}, {"policy": "ttl", "duration_seconds": 3600, "env_keys": []}]}, "timeout_seconds": 300}, "env": {"DEBIAN_FRONTEND": "noninteractive", "TERM": "dumb"}}, {"step": {"key": "report", "cmd": "true", "image": "alpine:3.20"}, "env": {}}], "node_holes": [], "edge_property": "directed", "edges": [[0, 1, "builds_in"], [0, 2, "depends_on"], [1, 2, "depends_on"]]}}""",

        // Fields harmont-py does not write but this runner reads: slug, runner, cwd, secrets, eval, label, top-level env.
        """{"version": "0", "slug": "seeded", "runner": "host", "env": {"CI": "1"}, "steps": [{"type": "command", "key": "where", "label": "Where", "eval": {"type": "cmd", "cmd": "true"}, "builds_in": null, "cwd": "sub/dir", "secrets": {"NPM_TOKEN": "NPM_TOKEN"}, "cache": {"policy": "on_change", "paths": ["sub", "."]}}, {"type": "wait", "continue_on_failure": false}, {"type": "wait"}, {"type": "command", "key": "after", "cmd": "true", "builds_in": "where", "runner": "host", "cache": {"policy": "none"}}]}""",

        IrWriter.Render(Everything.Definition),
    }.Select(IrMutator.MakeHarmless)];

    [Test]
    public async Task Mutated_ir_documents_exit_0_or_2_and_never_throw()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_FUZZ_SOAK"), CultureInfo.InvariantCulture, out var soak) ? soak : 300;
        var baseSeed = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_FUZZ_SEED"), CultureInfo.InvariantCulture, out var given) ? given : DefaultSeed;
        var path = Path.Combine(_harness.Root, "fuzz.json");

        foreach (var seed in Seeds)
        {
            File.WriteAllText(path, seed);
            var run = await RunIr(path);
            await Assert.That(run.ExitCode == 0).IsTrue().Because($"a seed document must run:\n{seed}\n{run}");
        }

        var outcomes = new int[3];
        for (var i = 0; i < count; i++)
        {
            var caseSeed = unchecked(baseSeed + i);
            var random = new Random(caseSeed);
            var document = new IrMutator(random).Mutate(Seeds[random.Next(Seeds.Length)]);
            File.WriteAllText(path, document);
            string[] name = random.Next(8) == 0 ? ["--pipeline", random.Next(2) == 0 ? "fuzzed" : "odd\u00e9 name/..\\"] : [];
            try
            {
                var explain = await _harness.RunAsync([], ["explain", "--ir", path, .. name]);
                await Check("explain", explain);
                var run = await RunIr(path, name);
                await Check("run", run);
                outcomes[run.ExitCode]++;
                if (explain.ExitCode == 0)
                {
                    var pipeline = IrDocument.Load(path, new IrReadOptions(_harness.Source, name.LastOrDefault()));
                    var render = await _harness.RunAsync([pipeline], ["render"]);
                    await Assert.That(render.ExitCode == 0).IsTrue().Because(render.ToString());
                    IrDocument.Parse(render.Output, "rendered.json", new IrReadOptions(_harness.Source));
                }
            }
#pragma warning disable CA1031 // Any failure is reported with the seed that replays it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Assert.Fail($"IR fuzz case failed; replay with HARMONT_FUZZ_SEED={caseSeed} HARMONT_FUZZ_SOAK=1\n--- document\n{document}\n--- failure\n{ex}");
            }
        }

        TestContext.Current!.Output.WriteLine($"IR fuzz: {count} mutants from seed {baseSeed}: {outcomes[0]} ran (exit 0), {outcomes[1]} failed a step on a missing cwd (exit 1), {outcomes[2]} refused (exit 2)");
        await Assert.That(count < 50 || outcomes[0] > 0).IsTrue().Because("no mutant ran: the fuzzer only exercises the reader");
    }

    // Exit 0, 2, or 1 only for a step whose cwd names a directory its workspace lacks (known only when it starts);
    // an error is one line of the runner's, never a stack trace.
    private static async Task Check(string verb, RunOutcome outcome)
    {
        var lines = outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await Assert.That(lines.All(l => l.StartsWith("harmont", StringComparison.Ordinal)))
            .IsTrue()
            .Because($"{verb}: stderr has a line that is not the runner's:\n{outcome}");
        await Assert.That(outcome.Error).DoesNotContain("Unhandled exception", StringComparison.Ordinal);
        switch (outcome.ExitCode)
        {
            case 0:
                break;
            case 2:
                await Assert.That(lines.Any(l => l.StartsWith("harmont: error: ", StringComparison.Ordinal)))
                    .IsTrue()
                    .Because($"{verb}: exit 2 without an error line:\n{outcome}");
                break;
            case 1 when verb == "run":
                var failed = outcome.Events.OfType<StepFinished>().Where(e => e.Status == StepStatus.Failed).ToList();
                await Assert.That(failed.Count > 0 && failed.All(e => e.Reason?.Contains("which is not a directory of its workspace", StringComparison.Ordinal) == true))
                    .IsTrue()
                    .Because($"{verb}: a step of `true` failed:\n{outcome}");
                break;
            default:
                Assert.Fail($"{verb}: exit {outcome.ExitCode}:\n{outcome}");
                break;
        }
    }

    private Task<RunOutcome> RunIr(string path, params string[] extra) =>
        _harness.RunAsync([], ["run", "--ir", path, "--runner", "host", .. extra]);
}
