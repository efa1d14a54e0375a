using System.Runtime.Versioning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// Where nothing faster works, run falls back to copying and says so loudly, with each faster
/// strategy's reason. The work dir sits inside an overlayfs over ext4: no FICLONE there, overlayfs
/// refuses an overlayfs upper, and fuse-overlayfs is kept off PATH.
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class CopyFallbackTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-fallback-").FullName;

    public void Dispose()
    {
        MountTable.UnmountUnder(_root);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Nothing_faster_available_falls_back_to_copy_and_says_why_for_each()
    {
        var lower = Directory.CreateDirectory(Path.Combine(_root, "lower")).FullName;
        using var overlay = await new KernelOverlayStrategy().MountAsync(
            [lower], Path.Combine(_root, "upper"), Path.Combine(_root, "work"), Path.Combine(_root, "merged"), TestContext.Current.CancellationToken);
        var workDir = Path.Combine(overlay.MergedPath, "harmont-work");
        var notices = new StringWriter();
        string? Env(string name) => name == "PATH" ? "/nonexistent" : null;

        var strategy = WorkspaceStrategies.ForWorkDir(workDir, Env, notices);

        Assert.IsType<CopyStrategy>(strategy);
        var notice = notices.ToString();
        Assert.StartsWith("harmont: warning: workspaces fall back to full copies", notice, StringComparison.Ordinal);
        Assert.Contains("reflink: FICLONE on overlayfs fails with", notice, StringComparison.Ordinal);
        Assert.Contains("overlay: mount(2) overlay", notice, StringComparison.Ordinal);
        Assert.Contains("fuse-overlayfs: fuse-overlayfs is not on PATH", notice, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(workDir));
    }
}
