using System.Runtime.Versioning;
using Harmont.Aot.Cli;
using Harmont.Aot.Runners;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary><c>doctor</c> reports every strategy on the work dir's filesystem, why, how fast, and what <c>run</c> will use.</summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(DoctorTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class DoctorTests(XfsLoopMount xfs)
{
    [Test]
    public async Task Doctor_on_xfs_measures_every_strategy_and_picks_reflink()
    {
        var (exitCode, output) = Doctor(xfs.NewDirectory("cache"));

        await Assert.That(exitCode).IsEqualTo(0);
        await Assert.That(output).Contains("(xfs)", StringComparison.Ordinal);
        foreach (var name in new[] { "reflink", "overlay", "fuse-overlayfs", "copy" })
        {
            await Assert.That(output).Matches($@"(?m)^  {name} +available +[0-9.]+ ms  ");
        }

        await Assert.That(output.ReplaceLineEndings("\n")).Contains("run will use: reflink\n", StringComparison.Ordinal);
    }

    [Test]
    public async Task Doctor_on_ext4_says_why_reflink_is_out_and_picks_the_next()
    {
        var cache = Directory.CreateTempSubdirectory("harmont-doctor-").FullName;
        try
        {
            var (exitCode, output) = Doctor(cache);

            await Assert.That(exitCode).IsEqualTo(0);
            await Assert.That(output).Matches(@"(?m)^  reflink +unavailable +-  FICLONE on ext4 fails with EOPNOTSUPP");
            await Assert.That(output.ReplaceLineEndings("\n")).Contains("run will use: overlay\n", StringComparison.Ordinal);
            await Assert.That(Directory.GetFileSystemEntries(cache).Select(Path.GetFileName))
                .IsEquivalentTo((IEnumerable<string?>)["work"], CollectionOrdering.Matching);
            await Assert.That(Directory.GetFileSystemEntries(Path.Combine(cache, "work"))).IsEmpty();
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Test]
    public async Task Doctor_names_a_forced_strategy_and_refuses_an_unusable_one()
    {
        var cache = Directory.CreateTempSubdirectory("harmont-doctor-").FullName;
        try
        {
            var forcedCopy = Doctor(cache, ("HARMONT_WORKSPACE_STRATEGY", "copy"));
            var forcedReflink = Doctor(cache, ("HARMONT_WORKSPACE_STRATEGY", "reflink"));

            await Assert.That(forcedCopy.ExitCode).IsEqualTo(0);
            await Assert.That(forcedCopy.Output).Contains("run will use: copy (set by HARMONT_WORKSPACE_STRATEGY)", StringComparison.Ordinal);
            await Assert.That(forcedReflink.ExitCode).IsEqualTo(2);
            await Assert.That(forcedReflink.Output).Contains("EOPNOTSUPP", StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Doctor(string cache, params (string Name, string Value)[] env)
    {
        var output = new StringWriter();
        string? GetEnv(string name) =>
            name == "HARMONT_CACHE_DIR" ? cache
            : name == "HARMONT_WORK_DIR" ? null
            : env.FirstOrDefault(e => e.Name == name).Value ?? (name == "HARMONT_WORKSPACE_STRATEGY" ? null : Environment.GetEnvironmentVariable(name));
        var context = new CliContext(output, output, cache, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        var exitCode = DoctorCommand.Execute(context);
        return (exitCode, output.ToString());
    }
}
