using System.Runtime.Versioning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// Where nothing faster works, run falls back to copying and says so loudly, with each faster
/// strategy's reason. The work dir sits inside an overlayfs over ext4: no FICLONE there, overlayfs
/// refuses an overlayfs upper, and fuse-overlayfs is kept off PATH.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(CopyFallbackTests))]
public sealed class CopyFallbackTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-fallback-").FullName;

    public void Dispose()
    {
        MountTable.UnmountUnder(_root);
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task Nothing_faster_available_falls_back_to_copy_and_says_why_for_each(CancellationToken cancellationToken)
    {
        var lower = Directory.CreateDirectory(Path.Combine(_root, "lower")).FullName;
        using var overlay = await new KernelOverlayStrategy().MountAsync(
            [lower], Path.Combine(_root, "upper"), Path.Combine(_root, "work"), Path.Combine(_root, "merged"), cancellationToken);
        var workDir = Path.Combine(overlay.MergedPath, "harmont-work");
        var notices = new StringWriter();
        string? Env(string name) => name == "PATH" ? "/nonexistent" : null;

        var strategy = WorkspaceStrategies.ForWorkDir(workDir, Env, notices);

        await Assert.That(strategy).IsTypeOf<CopyStrategy>();
        var notice = notices.ToString();
        await Assert.That(notice).StartsWith("harmont: warning: workspaces fall back to full copies", StringComparison.Ordinal);
        await Assert.That(notice).Contains("reflink: FICLONE on overlayfs fails with", StringComparison.Ordinal);
        await Assert.That(notice).Contains("overlay: mount(2) overlay", StringComparison.Ordinal);
        await Assert.That(notice).Contains("fuse-overlayfs: fuse-overlayfs is not on PATH", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }
}
