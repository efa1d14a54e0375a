using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// The shared cache fuzzed on a real registry: machine A pushes a chain of entries, one of them is forged by
/// <see cref="RemoteEntryForger"/> (its seed picks which and how), and machine B, with an empty cache, runs the
/// pipeline from the registry. B must pass with at most one warning, run the forged step itself, and produce what a
/// cold run produces (an uncached last step prints the workspace); its next run is all local hits. Cases: HARMONT_REMOTE_FUZZ_CASES (default 30).
/// </summary>
[NotInParallel(nameof(RemoteCacheFuzzTests))]
public sealed class RemoteCacheFuzzTests
{
    private static readonly string[] Steps = ["one", "two", "three"];

    private static PipelineDefinition Chain() => new()
    {
        Slug = "remote-fuzz",
        Runner = Runner.Host,
        Project = "remote-cache-fuzz",
        Steps =
        [
            Cached("one", "echo one > one.out && echo one", null, Forever()),
            Cached("two", "cat one.out input.txt > two.out && cat two.out", "one", OnChange("input.txt")),
            Cached("three", "cat two.out one.out > three.out && cat three.out", "two", Forever()),

            // Never cached, so it always runs: what it prints is the workspace the hits and misses above left.
            Step("check", "cat one.out two.out three.out input.txt && ls -a | sort", "three"),
        ],
    };

    [Test]
    public async Task Every_forged_entry_is_a_miss_with_one_warning_and_the_run_equals_a_cold_run(CancellationToken cancellationToken)
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_REMOTE_FUZZ_CASES"), out var n) ? n : 30;
        var registry = await RegistryServer.SharedAsync();
        using var cold = new RunHarness();
        cold.WriteSource("input.txt", "v1\n");
        var reference = await cold.RunAsync(Chain());
        await Assert.That(reference.ExitCode == 0).IsTrue().Because(reference.ToString());

        var failures = new List<string>();
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var seed = 0; seed < cases; seed++)
        {
            var random = new Random(seed);
            var repository = $"team/fuzz-{seed}-{Guid.NewGuid():N}";
            using var a = new RunHarness();
            using var b = new RunHarness();
            a.WriteSource("input.txt", "v1\n");
            b.WriteSource("input.txt", "v1\n");
            a.Env["HARMONT_CACHE_REMOTE"] = registry.Remote(repository);
            b.Env["HARMONT_CACHE_REMOTE"] = registry.Remote(repository, "?mode=read");

            var pushed = await a.RunAsync(Chain());
            if (!pushed.Error.Contains("3 pushed", StringComparison.Ordinal))
            {
                failures.Add($"seed {seed}: machine A did not push its 3 entries: {pushed}");
                continue;
            }

            var keys = new CacheStore(a.Cache, TimeProvider.System).List().ToDictionary(l => l.Entry.Step, l => l.Entry.Key);
            var victim = Steps[random.Next(Steps.Length)];
            var donor = Steps.Where(s => s != victim).ElementAt(random.Next(2));
            string forgery;
            using (var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote(repository)), new RegistryCredentials(_ => null)))
            {
                forgery = await new RemoteEntryForger(client, random).ForgeAsync(keys[victim], keys[donor], cancellationToken);
            }

            var kind = forgery.Split(':')[0];
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            var what = $"seed {seed}: {victim}'s entry forged ({forgery})";
            var run = await b.RunAsync(Chain());
            var warnings = run.Error.Split('\n').Count(l => l.Contains("warning: remote cache", StringComparison.Ordinal));
            if (run.ExitCode != 0 || warnings > 1 || !run.Executed.Contains(victim))
            {
                failures.Add($"{what}: expected a pass with at most one warning and '{victim}' run here:\n{run}");
                continue;
            }

            foreach (var step in Steps.Append("check").Where(s => run.Executed.Contains(s) && !run.LogsOf(s).SequenceEqual(reference.LogsOf(s))))
            {
                failures.Add($"{what}: '{step}' printed [{string.Join(" | ", run.LogsOf(step))}], a cold run [{string.Join(" | ", reference.LogsOf(step))}]");
            }

            var again = await b.RunAsync(Chain());
            if (again.ExitCode != 0 || !again.Executed.SequenceEqual(["check"]) || again.Error.Contains("warning", StringComparison.Ordinal))
            {
                failures.Add($"{what}: the next run was not all local hits:\n{again}");
            }
        }

        Console.WriteLine($"remote-cache fuzzer: {cases} cases ({string.Join(", ", kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}"))}), {failures.Count} failed");
        await Assert.That(failures).IsEmpty().Because($"{cases} cases ({string.Join(", ", kinds.Select(k => $"{k.Key} {k.Value}"))}):\n{string.Join("\n\n", failures)}");
    }
}
