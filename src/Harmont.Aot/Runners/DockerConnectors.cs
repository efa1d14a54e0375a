using System.Net.Sockets;
using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Runners;

/// <summary>Builds the <see cref="DockerConnector"/> for this process from DOCKER_HOST.</summary>
internal static class DockerConnectors
{
    public static DockerConnector FromEnvironment(Func<string, string?> getEnv)
    {
        Uri endpoint;
        try
        {
            endpoint = DockerHost.FromEnvironment(getEnv);
        }
        catch (FormatException ex)
        {
            // Surfaces only when a step actually wants Docker, as a usage error.
            return new DockerConnector(getEnv("DOCKER_HOST") ?? "", _ => throw new PipelineException(ex.Message, ex));
        }

        return new DockerConnector(
            DockerHost.Describe(endpoint),
            async cancellationToken =>
                DockerHost.SocketPath(endpoint) is { } socket && !await PingAsync(socket, cancellationToken)
                    ? null
                    : await DockerBackend.TryConnectAsync(endpoint, WorkspaceOwner(), cancellationToken))
        {
            AnswersAsync = DockerHost.SocketPath(endpoint) is { } socket ? ct => PingAsync(socket, ct) : null,
        };
    }

    // GET /_ping on the socket, by hand: a fraction of a millisecond, where the client library's first request
    // costs several in setting itself up. Any answer but 200 OK, or none within the engine's ping timeout, is no engine.
    // An engine this user may not talk to is there, not absent: saying "no engine answered" (or quietly running on
    // the host) would send the user looking for the wrong fix.
    private static async Task<bool> PingAsync(string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DockerEngine.PingTimeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            await socket.SendAsync("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[64];
            var read = 0;
            while (read < 12 && await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token) is var n and > 0)
            {
                read += n;
            }

            // "HTTP/1.1 200 OK"
            return read >= 12 && buffer.AsSpan(0, 5).SequenceEqual("HTTP/"u8) && buffer.AsSpan(8, 4).SequenceEqual(" 200"u8);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            throw Forbidden(path, ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static EngineUnavailableException Forbidden(string path, Exception inner) => new(
        $"permission denied on the Docker socket {path}: this user may not use the engine there " +
        "(add it to the socket's group, e.g. docker, or point DOCKER_HOST at an engine it may use)", inner);

    // Containers write as root; a non-root invoker gets the workspace handed back so it can delete it.
    private static string? WorkspaceOwner()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        string? uid = null, gid = null;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                uid = line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
            }
            else if (line.StartsWith("Gid:", StringComparison.Ordinal))
            {
                gid = line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
            }
        }

        return uid is null || gid is null || uid == "0" ? null : $"{uid}:{gid}";
    }
}
