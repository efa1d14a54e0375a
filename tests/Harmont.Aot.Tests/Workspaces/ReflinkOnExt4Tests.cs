using System.Runtime.Versioning;
using Harmont.Aot.Model;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>On ext4 (this machine's /tmp) reflink is unavailable: the probe says why and the fallback is taken.</summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(ReflinkOnExt4Tests))]
public sealed class ReflinkOnExt4Tests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-ext4-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Reflink_probe_on_ext4_reports_EOPNOTSUPP()
    {
        await RequireExt4();

        var probe = WorkspaceStrategies.Probe(WorkspaceStrategies.Reflink, Path.Combine(_root, "work"), _ => null);

        await Assert.That(probe.Available).IsFalse();
        await Assert.That(probe.Reason).Contains("ext4", StringComparison.Ordinal);
        await Assert.That(probe.Reason).Contains("EOPNOTSUPP", StringComparison.Ordinal);
    }

    [Test]
    public async Task Reflink_strategy_on_ext4_copies_each_file_and_says_why(CancellationToken cancellationToken)
    {
        await RequireExt4();
        var source = Path.Combine(_root, "source");
        Trees.Write(source, "a.txt", "alpha");
        Trees.Write(source, "d/b.txt", "beta");
        var strategy = new ReflinkStrategy();
        var clone = Path.Combine(_root, "clone");

        await strategy.CloneTreeAsync(source, clone, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(clone, "a.txt"), "changed", cancellationToken);

        await Assert.That(strategy.Counters.CopiedFiles).IsEqualTo(2);
        await Assert.That(strategy.Counters.ReflinkedFiles).IsEqualTo(0);
        await Assert.That(strategy.Counters.FallbackReason).Contains("EOPNOTSUPP", StringComparison.Ordinal);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(source, "a.txt"), cancellationToken)).IsEqualTo("alpha");
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(clone, "d/b.txt"), cancellationToken)).IsEqualTo("beta");
    }

    [Test]
    public async Task Selection_on_ext4_passes_over_reflink()
    {
        await RequireExt4();

        var strategy = WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), _ => null, new StringWriter());

        await Assert.That(strategy).IsNotTypeOf<ReflinkStrategy>();
    }

    [Test]
    public async Task Forcing_an_unavailable_strategy_is_an_error_that_gives_the_reason()
    {
        await RequireExt4();
        string? Env(string name) => name == WorkspaceStrategies.EnvironmentVariable ? "reflink" : null;

        var error = (await Assert.That(() => WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), Env, new StringWriter()))
            .ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains("EOPNOTSUPP", StringComparison.Ordinal);
    }

    [Test]
    public async Task Forcing_copy_is_said_loudly_and_an_unknown_name_is_refused()
    {
        var notices = new StringWriter();

        var strategy = WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), n => n == WorkspaceStrategies.EnvironmentVariable ? "copy" : null, notices);
        var unknown = (await Assert.That(() => WorkspaceStrategies.ForWorkDir(Path.Combine(_root, "work"), n => n == WorkspaceStrategies.EnvironmentVariable ? "zfs-magic" : null, notices))
            .ThrowsExactly<PipelineException>())!;

        await Assert.That(strategy).IsTypeOf<CopyStrategy>();
        await Assert.That(notices.ToString()).Contains("warning: workspaces are full copies", StringComparison.Ordinal);
        await Assert.That(unknown.Message).Contains("reflink, overlay, fuse-overlayfs, copy", StringComparison.Ordinal);
    }

    private async Task RequireExt4() =>
        await Assert.That(WorkspaceStrategies.FileSystemName(_root) == "ext4")
    .IsTrue()
    .Because($"these tests need {Path.GetTempPath()} on ext4 (no reflink); it is {WorkspaceStrategies.FileSystemName(_root)}.");
}
