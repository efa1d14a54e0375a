namespace Harmont.Aot.Tests.Workspaces;

/// <summary>The strategy probe as a non-root user sees it: the real binary run as 'nobody'.</summary>
[Property("Requires", "root")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[NotInParallel(nameof(NonRootProbeTests))]
public sealed class NonRootProbeTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("harmont-nobody-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Test]
    public async Task Doctor_as_a_non_root_user_says_why_overlays_are_unavailable_and_how_to_enable_fuse(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        File.SetUnixFileMode(_cache, (UnixFileMode)0x1FF);
        var allowOther = File.Exists("/etc/fuse.conf")
            && File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other");

        var (exitCode, output) = await Exec.RunAsync(
            "runuser", ["-u", "nobody", "--", "env", $"HARMONT_CACHE_DIR={_cache}", published.Binary, "doctor"], "/tmp", cancellationToken);

        await Assert.That(exitCode == 0).IsTrue().Because(output);
        await Assert.That(output).Matches(@"(?m)^  overlay\s+unavailable.*EPERM.*CAP_SYS_ADMIN");
        if (allowOther)
        {
            await Assert.That(output).DoesNotContain("requires 'user_allow_other'", StringComparison.Ordinal);
        }
        else
        {
            await Assert.That(output).Matches(@"(?m)^  fuse-overlayfs\s+unavailable.*requires 'user_allow_other' in /etc/fuse.conf");
        }

        await Assert.That(output).Matches(@"(?m)^  copy\s+available");
    }
}
