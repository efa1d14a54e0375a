using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Harmont.Aot.Tests;

/// <summary>
/// A real registry for a test: Debian's docker-registry (distribution's registry server) on a free loopback port,
/// its storage in a temp dir, optionally behind htpasswd basic auth. Fails the test, never skips, without the binary.
/// Tests that only need a working registry share the one tests/run.sh starts (<see cref="SharedAsync"/>); tests
/// that stop, reconfigure or damage a registry start their own.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/docker-registry";

    /// <summary>Set by tests/run.sh: <c>127.0.0.1:PORT</c> of the registry it started.</summary>
    public const string SharedVariable = "HARMONT_TEST_REGISTRY";

    /// <summary>Set by tests/run.sh: the directory holding that registry's config and storage.</summary>
    public const string SharedRootVariable = "HARMONT_TEST_REGISTRY_ROOT";

    private readonly bool _shared;
    private Process? _process;

    private RegistryServer(string root, int port, bool shared = false)
    {
        Root = root;
        Port = port;
        _shared = shared;
    }

    /// <summary>
    /// The registry tests/run.sh started for the whole suite, checked to answer; a registry of the test's own when the
    /// suite runs without run.sh. Give each test its own repository: the storage holds every test's blobs.
    /// </summary>
    public static async Task<RegistryServer> SharedAsync()
    {
        if (Environment.GetEnvironmentVariable(SharedVariable) is not { Length: > 0 } host)
        {
            return await StartAsync();
        }

        var root = Environment.GetEnvironmentVariable(SharedRootVariable) ?? "";
        await Assert.That(host.StartsWith("127.0.0.1:", StringComparison.Ordinal) && int.TryParse(host["127.0.0.1:".Length..], out _) && Directory.Exists(root))
            .IsTrue()
            .Because($"{SharedVariable}={host} and {SharedRootVariable}={root} must name tests/run.sh's registry (127.0.0.1:PORT and its directory)");
        var server = new RegistryServer(root, int.Parse(host["127.0.0.1:".Length..], System.Globalization.CultureInfo.InvariantCulture), shared: true);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await http.GetAsync(new Uri($"http://{host}/v2/"), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(response.StatusCode).IsEqualTo(HttpStatusCode.OK).Because($"tests/run.sh's registry on {host} must answer /v2/");
        return server;
    }

    /// <summary>The temp dir holding the config, the log and the storage.</summary>
    public string Root { get; }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Storage => Path.Combine(Root, "storage");

    public string Log => Path.Combine(Root, "registry.log");

    /// <summary>The running registry's process id.</summary>
    public int Pid => _process!.Id;

    /// <summary>The remote cache setting for <paramref name="repository"/> on this registry.</summary>
    public string Remote(string repository, string query = "") => $"oci://{Host}/{repository}{query}";

    /// <summary>Starts a registry; with <paramref name="user"/>, only that user and password get in (bcrypt htpasswd).</summary>
    public static async Task<RegistryServer> StartAsync(string? user = null, string? password = null)
    {
        await Assert.That(File.Exists(Binary))
            .IsTrue()
            .Because($"{Binary} is missing; install Debian's docker-registry package (tests/run.sh does, as root).");
        var root = Directory.CreateTempSubdirectory("harmont-registry-").FullName;
        var server = new RegistryServer(root, FreePort());
        await server.ConfigureAsync(user, password);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts a registry that takes only bearer tokens from <paramref name="tokens"/>' realm.</summary>
    public static async Task<RegistryServer> StartAsync(TokenServer tokens)
    {
        await Assert.That(File.Exists(Binary))
            .IsTrue()
            .Because($"{Binary} is missing; install Debian's docker-registry package (tests/run.sh does, as root).");
        var root = Directory.CreateTempSubdirectory("harmont-registry-").FullName;
        var server = new RegistryServer(root, FreePort());
        var bundle = Path.Combine(root, "token-root.pem");
        await File.WriteAllTextAsync(bundle, tokens.RootCertificatePem, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await server.ConfigureAsync(null, null,
            $"auth:\n  token:\n    realm: {tokens.Realm}\n    service: {TokenServer.Service}\n    issuer: {TokenServer.Issuer}\n    rootcertbundle: {bundle}\n");
        await server.StartAsync();
        return server;
    }

    /// <summary>Writes the config (and the password file) the next start reads.</summary>
    public async Task ConfigureAsync(string? user, string? password, string? tokenAuth = null)
    {
        var auth = tokenAuth ?? "";
        if (user is not null)
        {
            var (code, output) = await Exec.RunAsync("htpasswd", ["-Bbn", user, password ?? ""], Root, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
            await Assert.That(code == 0).IsTrue().Because($"htpasswd failed (install apache2-utils): {output}");
            await File.WriteAllTextAsync(Path.Combine(Root, "htpasswd"), output.Trim() + "\n", TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
            auth = $"auth:\n  htpasswd:\n    realm: harmont-test\n    path: {Path.Combine(Root, "htpasswd")}\n";
        }

        var config = $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {Storage}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{Port}
            {auth}
            """;
        await File.WriteAllTextAsync(Path.Combine(Root, "config.yml"), config, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
    }

    /// <summary>Starts (or starts again, on the same port and storage) and waits until it answers.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Binary, ["serve", Path.Combine(Root, "config.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        var log = File.AppendText(Log);
        _ = Pump(_process.StandardError, log);
        _ = Pump(_process.StandardOutput, log);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 200; i++)
        {
            await Assert.That(_process.HasExited).IsFalse().Because($"the registry exited at start:\n{await ReadLogAsync()}");
            try
            {
                using var response = await http.GetAsync(new Uri($"http://{Host}/v2/"), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }

        Assert.Fail($"the registry did not answer on {Host}:\n{await ReadLogAsync()}");
    }

    /// <summary>Kills the registry; its storage stays for a later <see cref="StartAsync()"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Freezes the registry (SIGSTOP): connections are accepted by the kernel and never answered.</summary>
    public void Freeze(bool frozen)
    {
        using var kill = Process.Start("kill", [frozen ? "-STOP" : "-CONT", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>The file on the registry's disk that holds the blob <paramref name="digest"/>.</summary>
    public string BlobFile(string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(Storage, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    /// <summary>Every blob file the registry holds.</summary>
    public IEnumerable<string> BlobFiles() =>
        Directory.Exists(Path.Combine(Storage, "docker", "registry", "v2", "blobs"))
            ? Directory.EnumerateFiles(Path.Combine(Storage, "docker", "registry", "v2", "blobs"), "data", SearchOption.AllDirectories)
            : [];

    public Task<string> ReadLogAsync() => File.Exists(Log) ? File.ReadAllTextAsync(Log) : Task.FromResult("");

    public async ValueTask DisposeAsync()
    {
        if (_shared)
        {
            return; // tests/run.sh stops it and removes its storage.
        }

        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
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

    // Below the kernel's ephemeral range (32768 and up), so no test's outgoing connection can take the port
    // between this check and the registry's bind; each registry of this process gets its own.
    private static int _nextPort = 20000 + Random.Shared.Next(0, 6000);

    private static int FreePort()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _nextPort);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by something else on the machine: the next one.
            }
        }
    }
}
