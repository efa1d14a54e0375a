using System.Net;
using System.Net.Sockets;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// A tcp:// DOCKER_HOST drives the real engine as the socket does: the library speaks HTTP over TCP with a transport
/// of its own, and attach hijacks that connection differently. The engine here listens on its socket only, so a
/// forwarder on loopback stands in for its TCP port.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(TcpDockerHostTests))]
public sealed class TcpDockerHostTests : IDisposable
{
    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-tcp-").FullName;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    public async Task Steps_run_commit_and_stream_their_output_over_a_tcp_docker_host(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var forwarder = new LoopbackForwarder(DockerTestEngine.Endpoint);
        var host = $"tcp://127.0.0.1:{forwarder.Port}";
        var connector = DockerConnectors.FromEnvironment(name => name == "DOCKER_HOST" ? host : null);
        await using var backend = await connector.ConnectAsync(cancellationToken);
        var lines = new List<(LogStream Stream, string Line)>();
        var log = (LogStream s, string l) =>
        {
            lock (lines)
            {
                lines.Add((s, l));
            }
        };
        try
        {
            await Assert.That(connector.Endpoint).IsEqualTo(host);
            // xunit's IsType also told the compiler the backend is not null; TUnit's IsNotNull does.
            await Assert.That(backend).IsNotNull();
            await Assert.That((await Assert.That(backend).IsTypeOf<DockerBackend>())!.Name).IsEqualTo("docker");

            var parent = await backend.RunAsync(Step("echo system > /root/state; seq 1 3000; printf 'err-tail' >&2; exit 0", "parent", log) with { KeepSnapshot = true }, cancellationToken);
            var child = await backend.RunAsync(Step("cat /root/state; exit 3", "child", log) with { BaseImage = parent.Snapshot }, cancellationToken);

            await Assert.That(parent.ExitCode).IsEqualTo(0);
            await Assert.That(child.ExitCode).IsEqualTo(3);
            await Assert.That(lines.Where(l => l.Stream == LogStream.Stdout).Select(l => l.Line))
                .IsEquivalentTo((IEnumerable<string>)[.. Enumerable.Range(1, 3000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "system"], CollectionOrdering.Matching);
            await Assert.That(lines.Where(l => l.Stream == LogStream.Stderr).Select(l => l.Line))
                .IsEquivalentTo((IEnumerable<string>)["err-tail"], CollectionOrdering.Matching);
        }
        finally
        {
            await backend!.ReapAsync(CancellationToken.None);
        }

        using var engine = await DockerTestEngine.ConnectAsync();
        await Assert.That(await engine.ContainersLeftAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
        await Assert.That(await engine.ListImagesAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
    }

    private StepInvocation Step(string command, string stepKey, Action<LogStream, string> log) =>
        new(_runId, stepKey, command, _workspace, BusyboxImage.Image, [], KeepSnapshot: false, log);

    /// <summary>Accepts on a loopback port and pipes each connection, both ways, to the engine's own endpoint.</summary>
    private sealed class LoopbackForwarder : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly EndPoint _engine;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _pipes = [];
        private readonly Task _accepting;

        public LoopbackForwarder(Uri engine)
        {
            _engine = DockerHost.SocketPath(engine) is { } socket
                ? new UnixDomainSocketEndPoint(socket)
                : new DnsEndPoint(engine.Host, engine.Port);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await Task.WhenAll([_accepting, .. _pipes]).ContinueWith(_ => { }, TaskScheduler.Default);
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                lock (_pipes)
                {
                    _pipes.Add(PipeAsync(client));
                }
            }
        }

        private async Task PipeAsync(Socket client)
        {
            using (client)
            using (var engine = new Socket(_engine.AddressFamily, SocketType.Stream, _engine is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp))
            {
                await engine.ConnectAsync(_engine, _stop.Token);
                await using var near = new NetworkStream(client);
                await using var far = new NetworkStream(engine);

                // A side that is done writing is passed on as a half-close; the pair ends when both are done.
                await Task.WhenAll(Copy(near, far, engine), Copy(far, near, client));
            }
        }

        private async Task Copy(Stream from, Stream to, Socket toSocket)
        {
            try
            {
                await from.CopyToAsync(to, _stop.Token);
                toSocket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The other direction, or the test, ended the connection.
            }
        }
    }
}
