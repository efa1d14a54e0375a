using System.Net;

namespace Harmont.Aot.Runners.Docker;

// Container operations: create, attach, start, wait, logs, kill, remove, list.
internal sealed partial class DockerEngineClient
{
    /// <summary>Creates (does not start) a container; returns its id. No TTY, so output stays multiplexed.</summary>
    public async Task<string> CreateContainerAsync(ContainerSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var request = new CreateContainerRequest
        {
            Image = spec.Image,
            Cmd = spec.Cmd,
            Env = spec.Env,
            WorkingDir = spec.WorkingDir,
            Labels = spec.Labels,
            AttachStdout = true,
            AttachStderr = true,
            HostConfig = spec.Binds is not { Count: > 0 } && spec.LogDriver is null ? null : new HostConfig
            {
                Binds = spec.Binds is { Count: > 0 } binds ? binds : null,
                LogConfig = spec.LogDriver is { } driver ? new LogConfig { Type = driver } : null,
            },
        };
        var path = spec.Name is null ? "/containers/create" : $"/containers/create?name={Q(spec.Name)}";
        using var body = JsonBody(request, DockerJsonContext.Default.CreateContainerRequest);
        using var response = await SendAsync(HttpMethod.Post, path, body, cancellationToken);
        await EnsureSuccessAsync(response, $"creating a container from '{spec.Image}'", cancellationToken);
        var reply = await ReadJsonAsync(response, DockerJsonContext.Default.IdResponse, cancellationToken);
        return reply.Id ?? throw new DockerEngineException("the Docker engine created a container but sent no id.");
    }

    /// <summary>Creates (does not start) a container from a full config read from another object; returns its id.</summary>
    /// <remarks>Used to give an image a config, so fields this client does not model are passed through as they came.</remarks>
    public async Task<string> CreateContainerAsync(ContainerConfig config, string? name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var body = JsonBody(config, DockerJsonContext.Default.ContainerConfig);
        var path = name is null ? "/containers/create" : $"/containers/create?name={Q(name)}";
        using var response = await SendAsync(HttpMethod.Post, path, body, cancellationToken);
        await EnsureSuccessAsync(response, $"creating a container from '{config.Image}'", cancellationToken);
        var reply = await ReadJsonAsync(response, DockerJsonContext.Default.IdResponse, cancellationToken);
        return reply.Id ?? throw new DockerEngineException("the Docker engine created a container but sent no id.");
    }

    /// <summary>Reads a container's state and config; null when it does not exist.</summary>
    public async Task<ContainerInspect?> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/containers/{PathName(id)}/json", null, cancellationToken);
        if (IsStatus(response, HttpStatusCode.NotFound))
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"inspecting container {id}", cancellationToken);
        return await ReadJsonAsync(response, DockerJsonContext.Default.ContainerInspect, cancellationToken);
    }

    /// <summary>Streams the container's whole filesystem, as one tarball, to <paramref name="consume"/>.</summary>
    /// <remarks>The tarball arrives as the engine writes it; nothing holds it whole in memory.</remarks>
    public async Task ExportContainerAsync(string id, Func<Stream, Task> consume, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consume);
        using var response = await SendAsync(
            HttpMethod.Get, $"/containers/{PathName(id)}/export", null, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        await EnsureSuccessAsync(response, $"exporting container {id}", cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await consume(stream);
    }

    /// <summary>Starts a created container.</summary>
    public async Task StartContainerAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{PathName(id)}/start", null, cancellationToken);
        // 304 means it was already running, which is what we asked for.
        if (!IsStatus(response, HttpStatusCode.NotModified))
        {
            await EnsureSuccessAsync(response, $"starting container {id}", cancellationToken);
        }
    }

    /// <summary>Waits until the container stops; returns its exit status.</summary>
    public async Task<long> WaitContainerAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{PathName(id)}/wait", null, cancellationToken);
        await EnsureSuccessAsync(response, $"waiting for container {id}", cancellationToken);
        var reply = await ReadJsonAsync(response, DockerJsonContext.Default.WaitResponse, cancellationToken);
        if (reply.Error?.Message is { Length: > 0 } error)
        {
            throw new DockerEngineException(null, error, $"waiting for container {id} failed: {error}");
        }

        return reply.StatusCode;
    }

    /// <summary>
    /// Attaches to a created container's stdout and stderr. Start the container only after this
    /// returns: the attachment then sees every byte, and ends once the container's output closes.
    /// </summary>
    /// <remarks>
    /// This, not followed logs, is what steps use: Docker 20.10's json-file follower can end early
    /// when the container stops, dropping the last lines. Attach reads the process's pipes directly.
    /// </remarks>
    public async Task<ContainerOutput> AttachAsync(string id, CancellationToken cancellationToken)
    {
        var response = await SendAsync(
            HttpMethod.Post, $"/containers/{PathName(id)}/attach?stream=1&stdout=1&stderr=1", null, cancellationToken,
            HttpCompletionOption.ResponseHeadersRead);
        try
        {
            await EnsureSuccessAsync(response, $"attaching to container {id}", cancellationToken);
            return new ContainerOutput(response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Follows the container's stdout and stderr until it stops, handing over each line.</summary>
    /// <remarks>The engine's follower may drop the tail on a fast exit (see <see cref="AttachAsync"/>); the stored logs stay complete.</remarks>
    public Task StreamLogsAsync(string id, Action<LogStream, string> onLine, CancellationToken cancellationToken) =>
        StreamLogsAsync(id, follow: true, onLine, cancellationToken);

    /// <summary>Reads the container's stored stdout and stderr, following new output when <paramref name="follow"/> is set.</summary>
    public async Task StreamLogsAsync(string id, bool follow, Action<LogStream, string> onLine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        using var response = await SendAsync(
            HttpMethod.Get, $"/containers/{PathName(id)}/logs?follow={(follow ? "1" : "0")}&stdout=1&stderr=1", null, cancellationToken,
            HttpCompletionOption.ResponseHeadersRead);
        await EnsureSuccessAsync(response, $"reading logs of container {id}", cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await new LogFrameReader(onLine).ReadToEndAsync(stream, cancellationToken);
    }

    /// <summary>Sends SIGKILL; a container that is gone or already stopped is fine.</summary>
    public async Task KillContainerAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/containers/{PathName(id)}/kill", null, cancellationToken);
        if (!IsStatus(response, HttpStatusCode.NotFound) && !IsStatus(response, HttpStatusCode.Conflict))
        {
            await EnsureSuccessAsync(response, $"killing container {id}", cancellationToken);
        }
    }

    /// <summary>Removes a container forcibly, with its anonymous volumes; a missing one is fine.</summary>
    public Task RemoveContainerAsync(string id, CancellationToken cancellationToken) =>
        RemoveContainerAsync(id, force: true, removeVolumes: true, cancellationToken);

    /// <summary>Removes a container; a missing one is fine.</summary>
    public async Task RemoveContainerAsync(string id, bool force, bool removeVolumes, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(
            HttpMethod.Delete,
            $"/containers/{PathName(id)}?force={(force ? "1" : "0")}&v={(removeVolumes ? "1" : "0")}",
            null,
            cancellationToken);
        if (!IsStatus(response, HttpStatusCode.NotFound))
        {
            await EnsureSuccessAsync(response, $"removing container {id}", cancellationToken);
        }
    }

    /// <summary>Lists containers, running or not, carrying <paramref name="labelFilter"/> (<c>key</c> or <c>key=value</c>).</summary>
    public Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(string labelFilter, CancellationToken cancellationToken) =>
        ListContainersAsync([labelFilter], cancellationToken);

    /// <summary>Lists containers, running or not, carrying every label in <paramref name="labelFilters"/>.</summary>
    public async Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(IEnumerable<string> labelFilters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labelFilters);
        using var response = await SendAsync(
            HttpMethod.Get, $"/containers/json?all=1&filters={LabelFilters(labelFilters)}", null, cancellationToken);
        await EnsureSuccessAsync(response, "listing containers", cancellationToken);
        return await ReadJsonAsync(response, DockerJsonContext.Default.ListContainerSummary, cancellationToken);
    }
}
