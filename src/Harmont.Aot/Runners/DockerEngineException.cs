using System.Net;

namespace Harmont.Aot.Runners;

/// <summary>The Docker engine refused or failed a request, or could not be reached; the one type the rest of the runner sees for either.</summary>
internal sealed class DockerEngineException : Exception
{
    /// <summary>Creates an exception with no HTTP status.</summary>
    public DockerEngineException()
    {
    }

    /// <summary>Creates an exception with a message and no HTTP status.</summary>
    public DockerEngineException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception wrapping a lower-level failure.</summary>
    public DockerEngineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for an engine response.</summary>
    public DockerEngineException(HttpStatusCode? statusCode, string engineMessage, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        EngineMessage = engineMessage;
    }

    /// <summary>The engine's HTTP status, or null when the failure did not come with one (e.g. an error inside a stream).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The engine's own explanation, as it sent it.</summary>
    public string EngineMessage { get; } = string.Empty;
}
