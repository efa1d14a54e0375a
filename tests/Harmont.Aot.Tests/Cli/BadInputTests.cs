using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Harmont.Aot.Tests;

/// <summary>
/// Bad input from the environment or the command line is one clear line and a usage exit (2), never a stack
/// trace: a cache dir that is a file, read-only or on a full filesystem, a parallelism that is not a number.
/// An engine this user may not use is "permission denied", not "no engine answered".
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class BadInputTests : IDisposable
{
    private readonly RunHarness _harness = new();
    private readonly List<string> _mounts = [];

    public BadInputTests() => _harness.WriteSource("source.txt", "x\n");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var mount in _mounts)
        {
            Exec.RunAsync("umount", [mount], "/", CancellationToken.None).GetAwaiter().GetResult();
        }

        _harness.Dispose();
    }

    [Fact]
    public async Task A_cache_dir_that_is_a_file_is_exit_2_in_one_line()
    {
        var file = Path.Combine(_harness.Root, "not-a-dir");
        await File.WriteAllTextAsync(file, "x", Ct);
        _harness.Env["HARMONT_CACHE_DIR"] = file;

        var run = await _harness.RunAsync(HostChain.Definition);

        AssertOneUsageLine(run, file, "it is a file, not a directory");
    }

    [Fact]
    [Trait("Requires", "root")]
    public async Task A_read_only_cache_dir_is_exit_2_in_one_line()
    {
        var readOnly = await MountTmpfsAsync("ro,size=1m");
        _harness.Env["HARMONT_CACHE_DIR"] = readOnly;

        var run = await _harness.RunAsync(HostChain.Definition);

        AssertOneUsageLine(run, readOnly, "Read-only file system");
    }

    [Fact]
    [Trait("Requires", "root")]
    public async Task A_new_cache_dir_on_a_full_filesystem_is_exit_2_in_one_line()
    {
        // Every inode taken: not even a directory can be made.
        var full = await MountTmpfsAsync("size=1m,nr_inodes=4");
        for (var i = 0; i < 3; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(full, $"f{i}"), "x", Ct);
        }

        var cache = Path.Combine(full, "new-cache");
        _harness.Env["HARMONT_CACHE_DIR"] = cache;

        var run = await _harness.RunAsync(HostChain.Definition);

        AssertOneUsageLine(run, cache, "No space left on device");
    }

    [Theory]
    [InlineData("-j", "abc")]
    [InlineData("--parallelism", "4x")]
    public async Task A_parallelism_that_is_not_a_number_is_exit_2_in_one_line(string option, string value)
    {
        var run = await _harness.RunAsync(HostChain.Definition, option, value);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"'{value}'", line, StringComparison.Ordinal);
        Assert.Contains("-j 4", line, StringComparison.Ordinal);
        Assert.Empty(run.Events);
    }

    [Fact]
    [Trait("Requires", "root")]
    public async Task A_docker_socket_this_user_may_not_open_says_permission_denied_not_no_engine()
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        var dir = Directory.CreateDirectory(Path.Combine(_harness.Root, "shared")).FullName;
        File.SetUnixFileMode(_harness.Root, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);

        // An engine's socket as root keeps it: only its owner may connect.
        var socketPath = Path.Combine(dir, "docker.sock");
        using var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        engine.Bind(new UnixDomainSocketEndPoint(socketPath));
        engine.Listen();
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var run = await Exec.RunAsync(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", published.Binary, "smoke", "--repo", dir],
            dir,
            Ct,
            ("DOCKER_HOST", $"unix://{socketPath}"),
            ("HARMONT_CACHE_DIR", Path.Combine(dir, "cache")),
            ("HOME", dir));

        Assert.True(run.ExitCode == 4, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains("permission denied", run.Output, StringComparison.Ordinal);
        Assert.Contains(socketPath, run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("no Docker engine answered", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
    }

    private static void AssertOneUsageLine(RunOutcome run, string path, string reason)
    {
        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.Contains("HARMONT_CACHE_DIR", line, StringComparison.Ordinal);
        Assert.Empty(run.Events);
    }

    private async Task<string> MountTmpfsAsync(string options)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_harness.Root, $"mnt-{_mounts.Count}")).FullName;
        var mount = await Exec.RunAsync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], "/", Ct);
        Assert.True(mount.ExitCode == 0, mount.Output);
        _mounts.Add(dir);
        return dir;
    }
}
