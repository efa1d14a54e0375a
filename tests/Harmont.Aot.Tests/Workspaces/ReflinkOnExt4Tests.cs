using System.Runtime.Versioning;
using Harmont.Aot.Model;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>On ext4 (this machine's /tmp) reflink is unavailable: the probe says why and the fallback is taken.</summary>
[SupportedOSPlatform("linux")]
public sealed class ReflinkOnExt4Tests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-ext4-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Reflink_probe_on_ext4_reports_EOPNOTSUPP()
    {
        RequireExt4();

        var probe = WorkspaceStrategies.Probe(WorkspaceStrategies.Reflink, Path.Combine(_root, "work"), _ => null);

        Assert.False(probe.Available);
        Assert.Contains("ext4", probe.Reason, StringComparison.Ordinal);
        Assert.Contains("EOPNOTSUPP", probe.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reflink_strategy_on_ext4_copies_each_file_and_says_why()
    {
        RequireExt4();
        var source = Path.Combine(_root, "source");
        Trees.Write(source, "a.txt", "alpha");
        Trees.Write(source, "d/b.txt", "beta");
        var strategy = new ReflinkStrategy();
        var clone = Path.Combine(_root, "clone");

        await strategy.CloneTreeAsync(source, clone, Ct);
        await File.WriteAllTextAsync(Path.Combine(clone, "a.txt"), "changed", Ct);

        Assert.Equal(2, strategy.Counters.CopiedFiles);
        Assert.Equal(0, strategy.Counters.ReflinkedFiles);
        Assert.Contains("EOPNOTSUPP", strategy.Counters.FallbackReason, StringComparison.Ordinal);
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(source, "a.txt"), Ct));
        Assert.Equal("beta", await File.ReadAllTextAsync(Path.Combine(clone, "d/b.txt"), Ct));
    }

    [Fact]
    public void Selection_on_ext4_passes_over_reflink()
    {
        RequireExt4();

        var strategy = WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), _ => null, new StringWriter());

        Assert.IsNotType<ReflinkStrategy>(strategy);
    }

    [Fact]
    public void Forcing_an_unavailable_strategy_is_an_error_that_gives_the_reason()
    {
        RequireExt4();
        string? Env(string name) => name == WorkspaceStrategies.EnvironmentVariable ? "reflink" : null;

        var error = Assert.Throws<PipelineException>(() => WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), Env, new StringWriter()));

        Assert.Contains("EOPNOTSUPP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forcing_copy_is_said_loudly_and_an_unknown_name_is_refused()
    {
        var notices = new StringWriter();

        var strategy = WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), n => n == WorkspaceStrategies.EnvironmentVariable ? "copy" : null, notices);
        var unknown = Assert.Throws<PipelineException>(
            () => WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), n => n == WorkspaceStrategies.EnvironmentVariable ? "zfs-magic" : null, notices));

        Assert.IsType<CopyStrategy>(strategy);
        Assert.Contains("warning: workspaces are full copies", notices.ToString(), StringComparison.Ordinal);
        Assert.Contains("reflink, overlay, fuse-overlayfs, copy", unknown.Message, StringComparison.Ordinal);
    }

    private void RequireExt4() =>
        Assert.True(
            WorkspaceStrategies.FileSystemName(_root) == "ext4",
            $"these tests need {Path.GetTempPath()} on ext4 (no reflink); it is {WorkspaceStrategies.FileSystemName(_root)}.");
}
