using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>DOCKER_HOST as the Docker backend reads it, and the API version it then speaks; the library is handed only what passes.</summary>
public sealed class DockerHostTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Unset_docker_host_means_the_default_socket(string? value)
    {
        var endpoint = DockerHost.Parse(value);

        Assert.Equal("/var/run/docker.sock", DockerHost.SocketPath(endpoint));
        Assert.Equal("unix:///var/run/docker.sock", DockerHost.Describe(endpoint));
    }

    [Fact]
    public void Unix_scheme_names_a_socket_path()
    {
        var endpoint = DockerHost.Parse("unix:///run/user/1000/docker.sock");

        Assert.Equal("/run/user/1000/docker.sock", DockerHost.SocketPath(endpoint));
    }

    [Theory]
    [InlineData("tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376")]
    [InlineData("tcp://docker.example:4243/", "tcp://docker.example:4243")]
    [InlineData("tcp://localhost", "tcp://localhost:2375")]
    [InlineData("http://localhost:2375", "tcp://localhost:2375")]
    [InlineData("tcp://[::1]:2375", "tcp://[::1]:2375")]
    public void Tcp_scheme_names_host_and_port(string value, string described)
    {
        var endpoint = DockerHost.Parse(value);

        Assert.Null(DockerHost.SocketPath(endpoint));
        Assert.Equal("tcp", endpoint.Scheme);
        Assert.Equal(described, DockerHost.Describe(endpoint));
    }

    [Theory]
    [InlineData("ssh://me@build-box", "ssh://")]
    [InlineData("npipe:////./pipe/docker_engine", "npipe://")]
    [InlineData("fd://", "fd://")]
    public void Unsupported_scheme_is_a_clear_error(string value, string scheme)
    {
        var ex = Assert.Throws<FormatException>(() => DockerHost.Parse(value));

        Assert.Contains(scheme, ex.Message, StringComparison.Ordinal);
        Assert.Contains("unix://", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/var/run/docker.sock")]
    [InlineData("unix://relative.sock")]
    [InlineData("tcp://")]
    public void Malformed_address_is_a_clear_error(string value)
    {
        var ex = Assert.Throws<FormatException>(() => DockerHost.Parse(value));

        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_verification_is_refused_rather_than_silently_dropped()
    {
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = "tcp://h:2376", ["DOCKER_TLS_VERIFY"] = "1" };

        var ex = Assert.Throws<FormatException>(() => DockerHost.FromEnvironment(env.GetValueOrDefault));

        Assert.Contains("DOCKER_TLS_VERIFY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_verification_is_no_matter_for_a_unix_socket()
    {
        var env = new Dictionary<string, string> { ["DOCKER_TLS_VERIFY"] = "1" };

        Assert.Equal(DockerHost.Default, DockerHost.FromEnvironment(env.GetValueOrDefault));
    }

    [Fact]
    public async Task Bad_docker_host_is_a_usage_error_only_once_docker_is_wanted()
    {
        var connector = DockerConnectors.FromEnvironment(name => name == "DOCKER_HOST" ? "ssh://me@build-box" : null);

        var ex = await Assert.ThrowsAsync<Harmont.Aot.Model.PipelineException>(() => connector.ConnectAsync(TestContext.Current.CancellationToken));

        Assert.Contains("ssh://", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_is_read_through_the_given_lookup()
    {
        var endpoint = DockerHost.FromEnvironment(name => name == "DOCKER_HOST" ? "unix:///tmp/d.sock" : null);

        Assert.Equal("/tmp/d.sock", DockerHost.SocketPath(endpoint));
    }

    [Theory]
    [InlineData("1.41", "1.41")]
    [InlineData("1.43", "1.43")]
    [InlineData("1.52", "1.52")]
    [InlineData("1.54", "1.52")]
    [InlineData("2.1", "1.52")]
    public void Api_version_is_the_lower_of_engine_and_runner(string server, string expected)
    {
        Assert.Equal(Version.Parse(expected), DockerEngine.ChooseApiVersion(server));
    }

    [Theory]
    [InlineData("1.40")]
    [InlineData("1.24")]
    public void Engine_older_than_the_minimum_is_a_clear_error(string server)
    {
        var ex = Assert.Throws<DockerEngineException>(() => DockerEngine.ChooseApiVersion(server));

        Assert.Contains(server, ex.Message, StringComparison.Ordinal);
        Assert.Contains("1.41", ex.Message, StringComparison.Ordinal);
    }
}
