namespace Harmont.Aot.Tests.Workspaces;

/// <summary>The strategy probe as a non-root user sees it: the real binary run as 'nobody'.</summary>
[Trait("Requires", "root")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NonRootProbeTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("harmont-nobody-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Fact]
    public async Task Doctor_as_a_non_root_user_says_why_overlays_are_unavailable_and_how_to_enable_fuse()
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        File.SetUnixFileMode(_cache, (UnixFileMode)0x1FF);
        var allowOther = File.Exists("/etc/fuse.conf")
            && File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other");

        var (exitCode, output) = await Exec.RunAsync(
            "runuser", ["-u", "nobody", "--", "env", $"HARMONT_CACHE_DIR={_cache}", published.Binary, "doctor"], "/tmp", TestContext.Current.CancellationToken);

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"(?m)^  overlay\s+unavailable.*EPERM.*CAP_SYS_ADMIN", output);
        if (allowOther)
        {
            Assert.DoesNotContain("requires 'user_allow_other'", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Matches(@"(?m)^  fuse-overlayfs\s+unavailable.*requires 'user_allow_other' in /etc/fuse.conf", output);
        }

        Assert.Matches(@"(?m)^  copy\s+available", output);
    }
}
