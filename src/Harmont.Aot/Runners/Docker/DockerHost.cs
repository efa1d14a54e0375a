namespace Harmont.Aot.Runners.Docker;

/// <summary>Reads DOCKER_HOST into the endpoint the client is given, refusing what it cannot reach with a line that says why.</summary>
/// <remarks>The library takes any URI and fails later and obscurely on one it cannot use; these checks come first.</remarks>
internal static class DockerHost
{
    /// <summary>The engine's conventional local socket, used when DOCKER_HOST is unset.</summary>
    public static Uri Default { get; } = new("unix:///var/run/docker.sock");

    /// <summary>Reads DOCKER_HOST through <paramref name="getEnv"/>, refusing DOCKER_TLS_VERIFY for TCP, which this runner cannot honour.</summary>
    /// <exception cref="FormatException">DOCKER_HOST is malformed, or TLS verification was asked for.</exception>
    public static Uri FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var endpoint = Parse(getEnv("DOCKER_HOST"));

        // Plain HTTP to an engine the user asked to verify with TLS would either fail obscurely
        // (and send auto to the host) or drop the protection, so say it plainly instead.
        if (endpoint.Scheme != "unix" && !string.IsNullOrEmpty(getEnv("DOCKER_TLS_VERIFY")))
        {
            throw new FormatException(
                "DOCKER_TLS_VERIFY is set, but the Docker backend does not support TLS; use a unix socket or an unencrypted tcp:// DOCKER_HOST.");
        }

        return endpoint;
    }

    /// <summary>Parses a DOCKER_HOST value into <c>unix:///path</c> or <c>tcp://host:port</c>; null or blank is <see cref="Default"/>.</summary>
    /// <exception cref="FormatException">The scheme is not unix:// or tcp://, or the address is malformed.</exception>
    public static Uri Parse(string? dockerHost)
    {
        if (string.IsNullOrWhiteSpace(dockerHost))
        {
            return Default;
        }

        var value = dockerHost.Trim();
        var sep = value.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0)
        {
            throw new FormatException($"DOCKER_HOST '{value}' has no scheme; use unix:///path/to/docker.sock or tcp://host:port.");
        }

        var scheme = value[..sep].ToLowerInvariant();
        var rest = value[(sep + 3)..];
        return scheme switch
        {
            "unix" when rest.StartsWith('/') => new Uri("unix://" + rest),
            "unix" => throw new FormatException($"DOCKER_HOST '{value}' must name an absolute socket path, as in unix:///var/run/docker.sock."),
            "tcp" or "http" => ParseTcp(value, rest),
            _ => throw new FormatException(
                $"DOCKER_HOST scheme '{scheme}://' is not supported (in '{value}'); the Docker backend speaks unix:// and tcp:// only."),
        };
    }

    /// <summary>The endpoint as DOCKER_HOST would say it, for messages.</summary>
    public static string Describe(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.Scheme == "unix" ? $"unix://{endpoint.LocalPath}" : $"tcp://{endpoint.Authority}";
    }

    /// <summary>The socket path of a unix endpoint; null for TCP.</summary>
    public static string? SocketPath(Uri endpoint) => endpoint?.Scheme == "unix" ? endpoint.LocalPath : null;

    private static Uri ParseTcp(string value, string rest)
    {
        // The CLI tolerates a trailing slash or path; the engine API root is what is needed.
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        if (!Uri.TryCreate("tcp://" + authority, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new FormatException($"DOCKER_HOST '{value}' is not a valid tcp://host:port address.");
        }

        // 2375 is the engine's conventional unencrypted port, and what the CLI assumes.
        var port = uri.IsDefaultPort || uri.Port <= 0 ? 2375 : uri.Port;
        return new UriBuilder("tcp", uri.Host, port).Uri;
    }
}
