using System.Net;
using System.Net.Sockets;

namespace Harmont.Aot.Tests;

/// <summary>
/// A loopback TCP proxy in front of a real registry that answers promptly and then trickles: each response's headers
/// pass at once, and every byte after them goes one at a time, <see cref="Interval"/> apart. Each read of the client
/// then gets a byte in time, so only a deadline on the whole request ends it.
/// </summary>
public sealed class TrickleProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly Task _accepting;

    public TrickleProxy(string upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var colon = upstream.LastIndexOf(':');
        (_upstreamHost, _upstreamPort) = (upstream[..colon], int.Parse(upstream[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The time between two trickled bytes.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary><c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>How many bytes of response bodies it has trickled so far.</summary>
    public long Trickled => Interlocked.Read(ref _trickled);

    private long _trickled;

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
                var down = client.GetStream();
                var up = upstream.GetStream();
                var requests = down.CopyToAsync(up, _stop.Token);
                await TrickleAsync(up, down, _stop.Token);
                await requests;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client gave up, as it should.
            }
        }
    }

    private async Task TrickleAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var matched = 0;
        var trickling = false;
        for (int read; (read = await from.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            for (var i = 0; i < read; i++)
            {
                if (trickling)
                {
                    await Task.Delay(Interval, cancellationToken);
                    Interlocked.Increment(ref _trickled);
                }

                await to.WriteAsync(buffer.AsMemory(i, 1), cancellationToken);
                await to.FlushAsync(cancellationToken);

                // After the first blank line (the end of the headers), everything trickles.
                if (!trickling)
                {
                    matched = buffer[i] == "\r\n\r\n"[matched] ? matched + 1 : buffer[i] == '\r' ? 1 : 0;
                    trickling = matched == 4;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
