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
            {
                await RefuseForbiddenSocketAsync(endpoint, cancellationToken);
                return await DockerBackend.TryConnectAsync(endpoint, WorkspaceOwner(), cancellationToken);
            });
    }

    // An engine this user may not talk to is there, not absent: saying "no engine answered" (or quietly
    // running on the host) would send the user looking for the wrong fix.
    private static async Task RefuseForbiddenSocketAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        if (DockerHost.SocketPath(endpoint) is not { } path)
        {
            return;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new EngineUnavailableException(
                $"permission denied on the Docker socket {path}: this user may not use the engine there " +
                "(add it to the socket's group, e.g. docker, or point DOCKER_HOST at an engine it may use)", ex);
        }
        catch (SocketException)
        {
            // Absent or refusing: the ping that follows says no engine answered.
        }
    }

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
