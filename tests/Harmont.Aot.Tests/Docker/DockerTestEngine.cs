using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>Connects tests to the machine's Docker engine, failing (never skipping) when none answers.</summary>
public static class DockerTestEngine
{
    /// <summary>The endpoint from DOCKER_HOST, else the default socket.</summary>
    internal static DockerEndpoint Endpoint => DockerEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>A client for an engine that has answered a ping.</summary>
    internal static async Task<DockerEngineClient> ConnectAsync()
    {
        var client = new DockerEngineClient(Endpoint);
        if (!await client.PingAsync(TestContext.Current.CancellationToken))
        {
            client.Dispose();
            Assert.Fail($"No Docker engine answered at {Endpoint}. These tests need one: start dockerd, or point DOCKER_HOST at an engine.");
        }

        return client;
    }

    /// <summary>A backend over a live engine, or a failed test.</summary>
    internal static async Task<DockerBackend> BackendAsync(string? workspaceOwner = null) =>
        new(await ConnectAsync(), ownsClient: true, workspaceOwner);
}
