using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

public sealed class DockerEndpointTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Unset_docker_host_means_the_default_socket(string? value)
    {
        var endpoint = DockerEndpoint.Parse(value);

        Assert.Equal("/var/run/docker.sock", endpoint.SocketPath);
        Assert.Equal("unix:///var/run/docker.sock", endpoint.ToString());
    }

    [Fact]
    public void Unix_scheme_names_a_socket_path()
    {
        var endpoint = DockerEndpoint.Parse("unix:///run/user/1000/docker.sock");

        Assert.True(endpoint.IsUnixSocket);
        Assert.Equal("/run/user/1000/docker.sock", endpoint.SocketPath);
    }

    [Theory]
    [InlineData("tcp://10.0.0.5:2376", "10.0.0.5", 2376, "http://10.0.0.5:2376/")]
    [InlineData("tcp://docker.example:4243/", "docker.example", 4243, "http://docker.example:4243/")]
    [InlineData("tcp://localhost", "localhost", 2375, "http://localhost:2375/")]
    [InlineData("tcp://[::1]:2375", "::1", 2375, "http://[::1]:2375/")]
    public void Tcp_scheme_names_host_and_port(string value, string host, int port, string baseAddress)
    {
        var endpoint = DockerEndpoint.Parse(value);

        Assert.False(endpoint.IsUnixSocket);
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(new Uri(baseAddress), endpoint.BaseAddress);
    }

    [Theory]
    [InlineData("ssh://me@build-box", "ssh://")]
    [InlineData("npipe:////./pipe/docker_engine", "npipe://")]
    [InlineData("fd://", "fd://")]
    public void Unsupported_scheme_is_a_clear_error(string value, string scheme)
    {
        var ex = Assert.Throws<FormatException>(() => DockerEndpoint.Parse(value));

        Assert.Contains(scheme, ex.Message, StringComparison.Ordinal);
        Assert.Contains("unix://", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/var/run/docker.sock")]
    [InlineData("unix://relative.sock")]
    [InlineData("tcp://")]
    public void Malformed_address_is_a_clear_error(string value)
    {
        var ex = Assert.Throws<FormatException>(() => DockerEndpoint.Parse(value));

        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_verification_is_refused_rather_than_silently_dropped()
    {
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = "tcp://h:2376", ["DOCKER_TLS_VERIFY"] = "1" };

        var ex = Assert.Throws<FormatException>(() => DockerEndpoint.FromEnvironment(env.GetValueOrDefault));

        Assert.Contains("DOCKER_TLS_VERIFY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_is_read_through_the_given_lookup()
    {
        var endpoint = DockerEndpoint.FromEnvironment(name => name == "DOCKER_HOST" ? "unix:///tmp/d.sock" : null);

        Assert.Equal("/tmp/d.sock", endpoint.SocketPath);
    }

    [Theory]
    [InlineData("1.41", "1.41")]
    [InlineData("1.42", "1.42")]
    [InlineData("1.43", "1.43")]
    [InlineData("1.47", "1.43")]
    [InlineData("2.1", "1.43")]
    public void Api_version_is_the_lower_of_engine_and_client(string server, string expected)
    {
        Assert.Equal(Version.Parse(expected), DockerEngineClient.ChooseApiVersion(server));
    }

    [Theory]
    [InlineData("1.40")]
    [InlineData("1.24")]
    public void Engine_older_than_the_minimum_is_a_clear_error(string server)
    {
        var ex = Assert.Throws<DockerEngineException>(() => DockerEngineClient.ChooseApiVersion(server));

        Assert.Contains(server, ex.Message, StringComparison.Ordinal);
        Assert.Contains("1.41", ex.Message, StringComparison.Ordinal);
    }
}
