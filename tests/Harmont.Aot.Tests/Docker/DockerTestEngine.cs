using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>Connects tests to the machine's Docker engine, failing (never skipping) when none answers.</summary>
public static class DockerTestEngine
{
    /// <summary>The endpoint from DOCKER_HOST, else the default socket.</summary>
    internal static Uri Endpoint => DockerHost.FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>An engine that has answered a ping.</summary>
    internal static async Task<DockerEngine> ConnectAsync()
    {
        var engine = await DockerEngine.ConnectAsync(Endpoint, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(engine)
            .IsNotNull()
            .Because($"No Docker engine answered at {DockerHost.Describe(Endpoint)}. These tests need one: start dockerd, or point DOCKER_HOST at an engine.");
        return engine!;
    }

    /// <summary>A backend over a live engine, or a failed test.</summary>
    internal static async Task<DockerBackend> BackendAsync(string? workspaceOwner = null) =>
        new(await ConnectAsync(), ownsEngine: true, workspaceOwner);
}
