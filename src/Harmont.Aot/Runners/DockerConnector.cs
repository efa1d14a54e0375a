namespace Harmont.Aot.Runners;

/// <summary>How to reach a Docker engine: where it is said to be, and a probe that connects if it answers.</summary>
/// <param name="Endpoint">The socket or DOCKER_HOST address, for messages.</param>
/// <param name="ConnectAsync">Returns a backend when the engine answers, otherwise null.</param>
internal sealed record DockerConnector(string Endpoint, Func<CancellationToken, Task<IStepBackend?>> ConnectAsync)
{
    /// <summary>
    /// A ping far cheaper than connecting: whether an engine answers (throwing <see cref="EngineUnavailableException"/>
    /// when one is there that this user may not use). Null where only connecting can tell.
    /// </summary>
    public Func<CancellationToken, Task<bool>>? AnswersAsync { get; init; }
}
