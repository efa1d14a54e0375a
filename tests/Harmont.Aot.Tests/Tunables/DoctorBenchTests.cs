using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Harmont.Aot.Cli;
using Harmont.Aot.Runners;
using Harmont.Aot.Tests.Workspaces;

namespace Harmont.Aot.Tests.Tunables;

/// <summary>
/// <c>doctor --bench</c> times the runner's own settings in the work dir, through the real cloner and hasher, and
/// says which value of each it would pick there. What it picks depends on the machine: only that it picks is tested.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(DoctorBenchTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class DoctorBenchTests(XfsLoopMount xfs)
{
    // Each tunable and the values doctor may pick for it: the fixed candidates and this machine's default.
    private static readonly (string Name, string[] Picks)[] Expected =
    [
        ("clone parallelism", Counts(1, 2, 4, 8, Environment.ProcessorCount * 2)),
        ("hash parallelism", Counts(1, 2, 4, 8, Environment.ProcessorCount * 2)),
        ("hash read size", ["16 KiB", "64 KiB", "128 KiB", "1 MiB"]),
        ("hash batch", Counts(16, 64, 256, 1024)),
        ("file hash memo", ["on", "off"]),
    ];

    [Test]
    public async Task Bench_on_xfs_reflinks_and_picks_a_value_for_every_tunable()
    {
        var cache = xfs.NewDirectory("cache");

        var (exitCode, output, error) = await DoctorAsync(cache, "doctor", "--bench");

        await Assert.That(exitCode).IsEqualTo(0).Because(error);
        await Assert.That(output).Contains("reflinked; medians of up to 5 alternating rounds", StringComparison.Ordinal);
        await AssertEveryTunablePicked(output);
        await AssertNothingLeft(cache);
    }

    [Test]
    public async Task Bench_on_a_tmp_dir_copies_and_picks_a_value_for_every_tunable()
    {
        var cache = Directory.CreateTempSubdirectory("harmont-doctor-bench-").FullName;
        try
        {
            var (exitCode, output, error) = await DoctorAsync(cache, "doctor", "--bench");

            await Assert.That(exitCode).IsEqualTo(0).Because(error);
            await Assert.That(output).Contains("(ext4)", StringComparison.Ordinal);
            await Assert.That(output).Contains("copied; medians of up to 5 alternating rounds", StringComparison.Ordinal);
            await AssertEveryTunablePicked(output);
            await AssertNothingLeft(cache);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Test]
    public async Task Doctor_without_bench_times_no_setting()
    {
        var cache = xfs.NewDirectory("cache");

        var (exitCode, output, _) = await DoctorAsync(cache, "doctor");

        await Assert.That(exitCode).IsEqualTo(0);
        await Assert.That(output).Contains("run will use: reflink", StringComparison.Ordinal);
        await Assert.That(output).DoesNotContain("would pick", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("--bogus", "unknown option '--bogus'")]
    [Arguments("extra", "unexpected argument 'extra'")]
    public async Task Doctor_takes_bench_and_nothing_else(string word, string named)
    {
        var cache = xfs.NewDirectory("cache");

        var (exitCode, output, error) = await DoctorAsync(cache, "doctor", "--bench", word);

        await Assert.That(exitCode).IsEqualTo(2);
        await Assert.That(output).IsEmpty();
        await Assert.That(error).StartsWith($"harmont: error: {named}", StringComparison.Ordinal);
    }

    private static async Task AssertEveryTunablePicked(string output)
    {
        foreach (var (name, picks) in Expected)
        {
            var line = Regex.Match(output, $@"(?m)^  {name} +would pick (?<pick>\S+(?: [KM]iB)?) +\(default (?<default>[^;]+); (?<why>.+)\)$");
            await Assert.That(line.Success).IsTrue().Because($"no choice for {name} in:\n{output}");
            await Assert.That(picks).Contains(line.Groups["pick"].Value);
            await Assert.That(picks).Contains(line.Groups["default"].Value);

            // The figures behind the choice: one median per candidate, the default among them.
            var figures = output[(line.Index + line.Length)..].Split('\n', 3)[1];
            await Assert.That(figures).Matches($@"^ +(?:\S+(?: [KM]iB)?: [0-9]+\.[0-9] ms  )+\([1-5] rounds?\)$");
        }
    }

    // The probe tree and its clones are scratch: only the work dir doctor made itself stays, empty.
    private static async Task AssertNothingLeft(string cache)
    {
        await Assert.That(Directory.GetFileSystemEntries(cache).Select(Path.GetFileName)).IsEquivalentTo((IEnumerable<string?>)["work"]);
        await Assert.That(Directory.GetFileSystemEntries(Path.Combine(cache, "work"))).IsEmpty();
    }

    private static async Task<(int ExitCode, string Output, string Error)> DoctorAsync(string cache, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string? GetEnv(string name) => name switch
        {
            "HARMONT_CACHE_DIR" => cache,
            "HARMONT_WORK_DIR" or "HARMONT_WORKSPACE_STRATEGY" => null,
            _ => Environment.GetEnvironmentVariable(name),
        };
        var context = new CliContext(output, error, cache, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        var exitCode = await HarmontCli.RunAsync(args, [], context);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string[] Counts(params int[] values) => [.. values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}
