using System.Net.Sockets;
using System.Text;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>
/// A canned HTTP responder on a unix socket, for engine replies a real engine here cannot be made
/// to send (a newer or older API, an error inside a 200 pull stream, an engine that goes away).
/// Everything else uses real Docker. It answers the connect-time ping itself and does not record it.
/// </summary>
internal sealed class FakeEngine : IAsyncDisposable
{
    private readonly Func<string, (int Status, string Body)> _respond;
    private readonly string _directory = Directory.CreateTempSubdirectory("harmont-fake-engine-").FullName;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _requests = [];
    private readonly Task _loop;

    /// <summary>Starts answering; <paramref name="respond"/> maps a request line (<c>GET /version</c>) to a reply.</summary>
    public FakeEngine(Func<string, (int Status, string Body)> respond)
    {
        _respond = respond;
        var path = Path.Combine(_directory, "engine.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        Endpoint = DockerHost.Parse("unix://" + path);
        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>Request lines seen so far, e.g. <c>POST /v1.43/images/create?fromImage=a&amp;tag=b</c>.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Connects the product's engine client to this fake; it must answer <c>GET /version</c>.</summary>
    internal async Task<DockerEngine> ConnectAsync()
    {
        var engine = await DockerEngine.ConnectAsync(Endpoint, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(engine).IsNotNull();
        return engine!;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await Task.WhenAny(_loop);
        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            using (connection)
            {
                await ServeAsync(connection);
            }
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        await using var stream = new NetworkStream(connection);
        var head = await ReadHeadAsync(stream);
        var requestLine = head.Split("\r\n")[0];
        var parts = requestLine.Split(' ');
        var request = $"{parts[0]} {Uri.UnescapeDataString(parts[1])}";
        var (status, body) = request == "GET /_ping" ? (200, "OK") : Record(request);
        var payload = Encoding.UTF8.GetBytes(body);
        var reply = $"HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {payload.Length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(reply), _stop.Token);
        await stream.WriteAsync(payload, _stop.Token);
    }

    private (int Status, string Body) Record(string request)
    {
        lock (_requests)
        {
            _requests.Add(request);
        }

        return _respond(request);
    }

    // Request bodies are small JSON here; the head is all the fake needs, the rest is drained by closing.
    private async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) &&
               await stream.ReadAsync(buffer, _stop.Token) == 1)
        {
            head.Append((char)buffer[0]);
        }

        return head.ToString();
    }
}
