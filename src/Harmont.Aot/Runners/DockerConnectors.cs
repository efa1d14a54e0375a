using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Runners;

/// <summary>Builds the <see cref="DockerConnector"/> for this process from DOCKER_HOST.</summary>
internal static class DockerConnectors
{
    public static DockerConnector FromEnvironment(Func<string, string?> getEnv)
    {
        DockerEndpoint endpoint;
        try
        {
            endpoint = DockerEndpoint.Parse(getEnv("DOCKER_HOST"));
        }
        catch (FormatException ex)
        {
            // Surfaces only when a step actually wants Docker, as a usage error.
            return new DockerConnector(getEnv("DOCKER_HOST") ?? "", _ => throw new PipelineException(ex.Message, ex));
        }

        return new DockerConnector(
            endpoint.ToString(),
            async cancellationToken => await DockerBackend.TryConnectAsync(endpoint, WorkspaceOwner(), cancellationToken));
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
