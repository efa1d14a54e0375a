using System.Runtime.Versioning;
using Harmont.Aot.Cli;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary><c>doctor</c> reports every strategy on the work dir's filesystem, why, how fast, and what <c>run</c> will use.</summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class DoctorTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    [Fact]
    public void Doctor_on_xfs_measures_every_strategy_and_picks_reflink()
    {
        var (exitCode, output) = Doctor(xfs.NewDirectory("cache"));

        Assert.Equal(0, exitCode);
        Assert.Contains("(xfs)", output, StringComparison.Ordinal);
        foreach (var name in new[] { "reflink", "overlay", "fuse-overlayfs", "copy" })
        {
            Assert.Matches($@"(?m)^  {name} +available +[0-9.]+ ms  ", output);
        }

        Assert.Contains("run will use: reflink\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_on_ext4_says_why_reflink_is_out_and_picks_the_next()
    {
        var cache = Directory.CreateTempSubdirectory("harmont-doctor-").FullName;
        try
        {
            var (exitCode, output) = Doctor(cache);

            Assert.Equal(0, exitCode);
            Assert.Matches(@"(?m)^  reflink +unavailable +-  FICLONE on ext4 fails with EOPNOTSUPP", output);
            Assert.Contains("run will use: overlay\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Equal(["work"], Directory.GetFileSystemEntries(cache).Select(Path.GetFileName));
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache, "work")));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void Doctor_names_a_forced_strategy_and_refuses_an_unusable_one()
    {
        var cache = Directory.CreateTempSubdirectory("harmont-doctor-").FullName;
        try
        {
            var forcedCopy = Doctor(cache, ("HARMONT_WORKSPACE_STRATEGY", "copy"));
            var forcedReflink = Doctor(cache, ("HARMONT_WORKSPACE_STRATEGY", "reflink"));

            Assert.Equal(0, forcedCopy.ExitCode);
            Assert.Contains("run will use: copy (set by HARMONT_WORKSPACE_STRATEGY)", forcedCopy.Output, StringComparison.Ordinal);
            Assert.Equal(2, forcedReflink.ExitCode);
            Assert.Contains("EOPNOTSUPP", forcedReflink.Output, StringComparison.Ordinal);
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
        var context = new CliContext(output, output, cache, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current.CancellationToken);
        var exitCode = DoctorCommand.Execute(context);
        return (exitCode, output.ToString());
    }
}
