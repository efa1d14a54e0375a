namespace Harmont.Aot.Runners.Docker;

/// <summary>Where the Docker engine listens: a unix socket or a plain-TCP host, as DOCKER_HOST names it.</summary>
/// <param name="SocketPath">Unix socket path, or null for TCP.</param>
/// <param name="Host">TCP host name or address, or null for a unix socket.</param>
/// <param name="Port">TCP port (0 for a unix socket).</param>
internal sealed record DockerEndpoint(string? SocketPath, string? Host, int Port)
{
    /// <summary>The engine's conventional local socket.</summary>
    public const string DefaultSocketPath = "/var/run/docker.sock";

    /// <summary>The endpoint used when DOCKER_HOST is unset.</summary>
    public static DockerEndpoint Default { get; } = new(DefaultSocketPath, null, 0);

    /// <summary>Whether this endpoint is a unix socket.</summary>
    public bool IsUnixSocket => SocketPath is not null;

    /// <summary>The base address HTTP requests go to; for a unix socket the host part is a placeholder.</summary>
    public Uri BaseAddress => IsUnixSocket ? new Uri("http://docker.sock/") : new Uri($"http://{FormatHost(Host!)}:{Port}/");

    /// <summary>Reads DOCKER_HOST through <paramref name="getEnv"/>, refusing DOCKER_TLS_VERIFY, which this client cannot honour.</summary>
    public static DockerEndpoint FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);

        // Talking plain HTTP to an endpoint the user asked to verify with TLS would either fail
        // obscurely or silently drop the protection, so say it plainly instead.
        if (!string.IsNullOrEmpty(getEnv("DOCKER_TLS_VERIFY")))
        {
            throw new FormatException(
                "DOCKER_TLS_VERIFY is set, but the Docker backend does not support TLS; use a unix socket or an unencrypted tcp:// DOCKER_HOST.");
        }

        return Parse(getEnv("DOCKER_HOST"));
    }

    /// <summary>Parses a DOCKER_HOST value; null or empty means the default unix socket.</summary>
    /// <exception cref="FormatException">The scheme is not unix:// or tcp://, or the address is malformed.</exception>
    public static DockerEndpoint Parse(string? dockerHost)
    {
        if (string.IsNullOrWhiteSpace(dockerHost))
        {
            return Default;
        }

        var value = dockerHost.Trim();
        var sep = value.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0)
        {
            throw new FormatException(
                $"DOCKER_HOST '{value}' has no scheme; use unix:///path/to/docker.sock or tcp://host:port.");
        }

        var scheme = value[..sep].ToLowerInvariant();
        var rest = value[(sep + 3)..];
        return scheme switch
        {
            "unix" => ParseUnix(value, rest),
            "tcp" or "http" => ParseTcp(value, rest),
            _ => throw new FormatException(
                $"DOCKER_HOST scheme '{scheme}://' is not supported (in '{value}'); the Docker backend speaks unix:// and tcp:// only."),
        };
    }

    /// <inheritdoc />
    public override string ToString() => IsUnixSocket ? $"unix://{SocketPath}" : $"tcp://{FormatHost(Host!)}:{Port}";

    private static DockerEndpoint ParseUnix(string value, string rest)
    {
        if (rest.Length == 0 || rest[0] != '/')
        {
            throw new FormatException($"DOCKER_HOST '{value}' must name an absolute socket path, as in unix:///var/run/docker.sock.");
        }

        return new DockerEndpoint(rest, null, 0);
    }

    private static DockerEndpoint ParseTcp(string value, string rest)
    {
        // The CLI tolerates a trailing slash or path; the engine API root is what we need.
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        if (!Uri.TryCreate("tcp://" + authority, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new FormatException($"DOCKER_HOST '{value}' is not a valid tcp://host:port address.");
        }

        // 2375 is the engine's conventional unencrypted port, and what the CLI assumes.
        var port = uri.IsDefaultPort || uri.Port <= 0 ? 2375 : uri.Port;
        return new DockerEndpoint(null, uri.IdnHost.Trim('[', ']'), port);
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
}
