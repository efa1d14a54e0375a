using System.Net;

namespace Harmont.Aot.Cache.Remote;

/// <summary>
/// The registry refused, failed or sent something unusable (a wrong digest, a malformed manifest). To the cache
/// this is a miss and a warning, never a failed step; the message names the registry's part and never a secret.
/// </summary>
internal sealed class RegistryException : Exception
{
    public RegistryException(string message)
        : base(message)
    {
    }

    public RegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RegistryException()
    {
    }

    internal RegistryException(string message, HttpStatusCode status)
        : base(message)
    {
        Status = status;
    }

    /// <summary>The HTTP status the registry answered with, when it answered.</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>Whether the registry could not be reached or did not answer in time (as opposed to answering wrongly).</summary>
    public bool IsUnreachable { get; init; }

    /// <summary>Whether the registry said the credentials are missing or not good enough (401, 403).</summary>
    public bool IsDenied => Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
