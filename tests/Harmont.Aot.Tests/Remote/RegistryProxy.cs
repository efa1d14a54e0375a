using System.Net;
using System.Net.Sockets;

namespace Harmont.Aot.Tests;

/// <summary>
/// A loopback TCP proxy in front of a real registry that misbehaves on request. With <see cref="Trickle"/> it answers
/// promptly and then trickles: each response's headers pass at once, and every byte after them goes one at a time,
/// <see cref="Interval"/> apart, so each read of the client gets a byte in time and only a deadline on the whole
/// request ends it. With <see cref="Hold"/> it stops forwarding what clients send, on new and open connections
/// alike, until released: a push caught mid-way, for a test to kill the process making it.
/// </summary>
public sealed class RegistryProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly Task _accepting;

    public RegistryProxy(string upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var colon = upstream.LastIndexOf(':');
        (_upstreamHost, _upstreamPort) = (upstream[..colon], int.Parse(upstream[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Whether responses trickle after their headers.</summary>
    public bool Trickle { get; init; }

    /// <summary>While true, nothing clients send is forwarded.</summary>
    public bool Hold
    {
        get => Volatile.Read(ref _hold) != 0;
        set => Volatile.Write(ref _hold, value ? 1 : 0);
    }

    /// <summary>How many times a client's bytes have waited on <see cref="Hold"/>.</summary>
    public int Held => Volatile.Read(ref _held);

    private int _hold;
    private int _held;

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
                var requests = ForwardAsync(down, up, _stop.Token);
                await (Trickle ? TrickleAsync(up, down, _stop.Token) : up.CopyToAsync(down, _stop.Token));
                await requests;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client gave up, as it should.
            }
        }
    }

    private async Task ForwardAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        for (int read; (read = await from.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            if (Hold)
            {
                Interlocked.Increment(ref _held);
                while (Hold)
                {
                    await Task.Delay(50, cancellationToken);
                }
            }

            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
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
