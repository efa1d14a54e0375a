using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Harmont.Aot.Tests;

/// <summary>
/// Bad input from the environment or the command line is one clear line and a usage exit (2), never a stack
/// trace: a cache dir that is a file, read-only or on a full filesystem, a parallelism that is not a number.
/// An engine this user may not use is "permission denied", not "no engine answered".
/// </summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(BadInputTests))]
public sealed class BadInputTests : IDisposable
{
    private readonly RunHarness _harness = new();
    private readonly List<string> _mounts = [];

    public BadInputTests() => _harness.WriteSource("source.txt", "x\n");

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    public void Dispose()
    {
        foreach (var mount in _mounts)
        {
            Exec.RunAsync("umount", [mount], "/", CancellationToken.None).GetAwaiter().GetResult();
        }

        _harness.Dispose();
    }

    [Test]
    public async Task A_bad_cache_size_bound_is_exit_2_in_one_line_before_any_step_runs()
    {
        _harness.Env["HARMONT_CACHE_MAX_SIZE"] = "ten gigs";

        var run = await _harness.RunAsync(HostChain.Definition);

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).Contains("HARMONT_CACHE_MAX_SIZE 'ten gigs' is not a size", StringComparison.Ordinal);
        await Assert.That(run.Events).IsEmpty();
    }

    [Test]
    public async Task A_cache_dir_that_is_a_file_is_exit_2_in_one_line(CancellationToken cancellationToken)
    {
        var file = Path.Combine(_harness.Root, "not-a-dir");
        await File.WriteAllTextAsync(file, "x", cancellationToken);
        _harness.Env["HARMONT_CACHE_DIR"] = file;

        var run = await _harness.RunAsync(HostChain.Definition);

        await AssertOneUsageLine(run, file, "it is a file, not a directory");
    }

    [Test]
    [Property("Requires", "root")]
    public async Task A_read_only_cache_dir_is_exit_2_in_one_line()
    {
        var readOnly = await MountTmpfsAsync("ro,size=1m");
        _harness.Env["HARMONT_CACHE_DIR"] = readOnly;

        var run = await _harness.RunAsync(HostChain.Definition);

        await AssertOneUsageLine(run, readOnly, "Read-only file system");
    }

    [Test]
    [Property("Requires", "root")]
    public async Task A_new_cache_dir_on_a_full_filesystem_is_exit_2_in_one_line(CancellationToken cancellationToken)
    {
        // Every inode taken: not even a directory can be made.
        var full = await MountTmpfsAsync("size=1m,nr_inodes=4");
        for (var i = 0; i < 3; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(full, $"f{i}"), "x", cancellationToken);
        }

        var cache = Path.Combine(full, "new-cache");
        _harness.Env["HARMONT_CACHE_DIR"] = cache;

        var run = await _harness.RunAsync(HostChain.Definition);

        await AssertOneUsageLine(run, cache, "No space left on device");
    }

    [Test]
    [Arguments("-j", "abc")]
    [Arguments("--parallelism", "4x")]
    public async Task A_parallelism_that_is_not_a_number_is_exit_2_in_one_line(string option, string value)
    {
        var run = await _harness.RunAsync(HostChain.Definition, option, value);

        await Assert.That(run.ExitCode).IsEqualTo(2);
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).Contains($"'{value}'", StringComparison.Ordinal);
        await Assert.That(line).Contains("-j 4", StringComparison.Ordinal);
        await Assert.That(run.Events).IsEmpty();
    }

    [Test]
    [Property("Requires", "root")]
    public async Task A_docker_socket_this_user_may_not_open_says_permission_denied_not_no_engine(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
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
            cancellationToken,
            ("DOCKER_HOST", $"unix://{socketPath}"),
            ("HARMONT_CACHE_DIR", Path.Combine(dir, "cache")),
            ("HOME", dir));

        await Assert.That(run.ExitCode == 4).IsTrue().Because($"exit {run.ExitCode}\n{run.Output}");
        await Assert.That(run.Output).Contains("permission denied", StringComparison.Ordinal);
        await Assert.That(run.Output).Contains(socketPath, StringComparison.Ordinal);
        await Assert.That(run.Output).DoesNotContain("no Docker engine answered", StringComparison.Ordinal);
        await Assert.That(run.Output).DoesNotContain("   at ", StringComparison.Ordinal);
    }

    private static async Task AssertOneUsageLine(RunOutcome run, string path, string reason)
    {
        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        var line = await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
        await Assert.That(line).Contains(path, StringComparison.Ordinal);
        await Assert.That(line).Contains(reason, StringComparison.Ordinal);
        await Assert.That(line).Contains("HARMONT_CACHE_DIR", StringComparison.Ordinal);
        await Assert.That(run.Events).IsEmpty();
    }

    private async Task<string> MountTmpfsAsync(string options)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_harness.Root, $"mnt-{_mounts.Count}")).FullName;
        var mount = await Exec.RunAsync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], "/", Ct);
        await Assert.That(mount.ExitCode == 0).IsTrue().Because(mount.Output);
        _mounts.Add(dir);
        return dir;
    }
}
