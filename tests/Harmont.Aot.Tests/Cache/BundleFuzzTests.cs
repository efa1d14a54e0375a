using System.Security.Cryptography;
using Harmont.Aot.Cache;
using Harmont.Aot.Containment;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Imports random bundles (<see cref="BundleFuzzer"/>), seeded and bounded: 300 in CI, <c>HARMONT_FUZZ_SOAK=N</c>
/// for a long soak, <c>HARMONT_FUZZ_SEED</c> to start elsewhere. A failure names the seed that reproduces it.
/// </summary>
[Property("Requires", "root")] // Whiteouts are device nodes and opaque marks trusted.* attributes.
[NotInParallel(nameof(BundleFuzzTests))]
public sealed class BundleFuzzTests : IDisposable
{
    private const int DefaultCount = 300;
    private const int DefaultSeed = 20_261_121;
    private readonly RunHarness _harness = new();

    public void Dispose()
    {
        // The harness deletes through System.IO, which cannot name a file whose name is not UTF-8.
        HostileTree.Delete(_harness.Cache);
        _harness.Dispose();
    }

    private string Outside => Path.Combine(_harness.Root, "outside");

    private string BundlePath => Path.Combine(_harness.Root, "fuzz.tar.gz");

    [Test]
    public async Task Random_bundles_never_reach_outside_the_cache_and_publish_only_when_wholly_valid()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_FUZZ_SOAK"), out var soak) && soak > 0 ? soak : DefaultCount;
        var first = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_FUZZ_SEED"), out var given) ? given : DefaultSeed;
        MakeCanary();
        var canary = Snapshot(Outside);
        var verdicts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var seed = first; seed < first + count; seed++)
        {
            var fuzzer = new BundleFuzzer(seed, Outside);
            var verdict = fuzzer.Write(BundlePath, out var keys);
            var import = await _harness.RunAsync([], ["cache", "import", BundlePath]);
            var problem = Check(verdict, keys, import, canary);
            if (problem is not null)
            {
                Assert.Fail($"fuzz seed {seed} ({verdict}): {problem}\nreproduce with HARMONT_FUZZ_SEED={seed} HARMONT_FUZZ_SOAK=1\n{import}\nmembers:\n{fuzzer.Log}");
            }

            var outcome = $"{verdict}->{import.ExitCode}";
            verdicts[outcome] = verdicts.GetValueOrDefault(outcome) + 1;
            HostileTree.Delete(_harness.Cache);
        }

        TestContext.Current!.Output.WriteLine($"{count} bundles from seed {first}: {string.Join(", ", verdicts.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} {v.Value}"))}");
        await Assert.That(verdicts.GetValueOrDefault("Valid->0") > 0 && verdicts.GetValueOrDefault("Invalid->2") > 0)
            .IsTrue()
            .Because(string.Join(", ", verdicts));
    }

    private string? Check(FuzzVerdict verdict, IReadOnlyList<string> keys, RunOutcome import, IReadOnlyList<string> canary)
    {
        if (import.ExitCode is not (0 or 2) || import.ToString().Contains("   at ", StringComparison.Ordinal))
        {
            return "the import crashed (an exit other than 0 or 2, or a stack trace)";
        }

        if (import.ExitCode == 2 && import.Error.TrimEnd('\n').Contains('\n', StringComparison.Ordinal))
        {
            return "the refusal is more than one line";
        }

        if (!Snapshot(Outside).SequenceEqual(canary))
        {
            return "the canary tree outside the cache changed";
        }

        var around = Directory.GetFileSystemEntries(_harness.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        if (!around.SequenceEqual(["cache", "fuzz.tar.gz", "outside", "src"]))
        {
            return $"something appeared beside the cache: {string.Join(", ", around)}";
        }

        if (BundleAssert.Children(Path.Combine(_harness.Cache, "staging")).Length > 0)
        {
            return "staging was left behind";
        }

        var published = BundleAssert.Children(Path.Combine(_harness.Cache, "entries")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var listed = new CacheStore(_harness.Cache, TimeProvider.System).List().Select(l => l.Entry.Key).Order(StringComparer.Ordinal).ToList();
        return (verdict, import.ExitCode) switch
        {
            (_, 2) when published.Count > 0 => $"a refused bundle published {string.Join(", ", published)}",
            (_, 0) when !published.SequenceEqual(listed) => "an imported entry is not a valid entry",
            (_, 0) when published.Except(keys).Any() => "an entry the bundle did not hold appeared",
            (FuzzVerdict.Valid, not 0) => "a valid bundle was refused",
            (FuzzVerdict.Valid, 0) when !published.SequenceEqual(keys.Order(StringComparer.Ordinal)) => "a valid bundle's entries were not all published",
            (FuzzVerdict.Invalid, not 2) => "a hostile bundle was imported",
            _ => null,
        };
    }

    private void MakeCanary()
    {
        Directory.CreateDirectory(Path.Combine(Outside, "victim"));
        File.WriteAllText(Path.Combine(Outside, "canary.txt"), "do not touch");
        File.WriteAllText(Path.Combine(Outside, "entry.json"), "not an entry");
        File.WriteAllText(Path.Combine(Outside, "victim", "entry.json"), "{}");
        File.WriteAllText(Path.Combine(Outside, "victim", "precious"), "mine");
    }

    // Every path under the directory with its kind and content hash; any change is a write outside the cache.
    private static List<string> Snapshot(string directory) =>
        [.. new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(i => $"{Path.GetRelativePath(directory, i.FullName)} {i.LinkTarget ?? (i is FileInfo f ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f.FullName))) : "dir")}")
            .Order(StringComparer.Ordinal)];
}
