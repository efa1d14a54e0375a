using System.Diagnostics;
using System.Globalization;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>
/// A second machine's Docker engine: its own dockerd with its own data root, exec root, pid file and socket, and no
/// bridge or iptables rules of its own, so it shares nothing with the machine's engine but the kernel, the loopback
/// and docker0.
/// </summary>
public sealed class SecondEngine : IAsyncDisposable
{
    private readonly Process _process;

    private SecondEngine(string root, Process process)
    {
        Root = root;
        _process = process;
    }

    /// <summary>Its directory: short, since a unix socket path holds at most 107 bytes.</summary>
    public string Root { get; }

    public string Socket => Path.Combine(Root, "docker.sock");

    /// <summary>The <c>DOCKER_HOST</c> that reaches it.</summary>
    public string DockerHost => $"unix://{Socket}";

    /// <summary>Starts the engine and gives it the test image (by import: nothing is pulled). Fails the test when it does not answer.</summary>
    public static async Task<SecondEngine> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("hm-engine-").FullName;
        var start = new ProcessStartInfo("dockerd",
        [
            "--data-root", Path.Combine(root, "data"), "--exec-root", Path.Combine(root, "exec"), "--pidfile", Path.Combine(root, "docker.pid"),
            "-H", $"unix://{Path.Combine(root, "docker.sock")}", "--iptables=false", "--ip-masq=false",

            // It shares this machine's network namespace, so '--bridge=none' would make it delete the machine
            // engine's docker0 at start. It attaches to docker0 instead, handing out addresses from a corner of
            // docker0's default subnet that the machine engine reaches last; it changes no address or rule.
            "--bridge=docker0", "--fixed-cidr=172.17.255.0/24",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"dockerd cannot be started ({ex.Message}); install docker.io (tests/run.sh does, as root).");
            throw;
        }

        var log = File.AppendText(Path.Combine(root, "dockerd.log"));
        _ = Pump(process.StandardError, log);
        _ = Pump(process.StandardOutput, log);
        var engine = new SecondEngine(root, process);
        DockerEngine? client = null;
        for (var i = 0; i < 300 && (client = await DockerEngine.ConnectAsync(engine.Endpoint, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None)) is null; i++)
        {
            await Assert.That(process.HasExited)
                .IsFalse()
                .Because($"the second dockerd exited:\n{await File.ReadAllTextAsync(Path.Combine(root, "dockerd.log"))}");
            await Task.Delay(100, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }

        await Assert.That(client).IsNotNull().Because("the second dockerd did not answer within 30 s");
        using (client)
        using (var rootfs = BusyboxImage.BuildRootfs())
        {
            await client.ImportImageAsync(
                rootfs, new Dictionary<string, string> { ["dev.harmont.aot.test"] = "1" }, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None, "harmont-test/busybox", "1");
        }

        return engine;
    }

    private Uri Endpoint => new(DockerHost);

    /// <summary>A client for this engine.</summary>
    internal async Task<DockerEngine> ClientAsync() =>
        await DockerEngine.ConnectAsync(Endpoint, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None) ?? throw new InvalidOperationException("the second engine stopped answering");

    public async ValueTask DisposeAsync()
    {
        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();

        // Whatever it left mounted under its roots goes before its directory does.
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(Root, StringComparison.Ordinal)).OrderByDescending(m => m.Length))
        {
            using var umount = Process.Start("umount", ["-l", mount]);
            await umount.WaitForExitAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task Pump(StreamReader from, StreamWriter to)
    {
        while (await from.ReadLineAsync() is { } line)
        {
            lock (to)
            {
                to.WriteLine(line);
                to.Flush();
            }
        }
    }
}
