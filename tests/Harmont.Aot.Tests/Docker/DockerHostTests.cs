using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>DOCKER_HOST as the Docker backend reads it, and the API version it then speaks; the library is handed only what passes.</summary>
[NotInParallel(nameof(DockerHostTests))]
public sealed class DockerHostTests
{
    [Test]
    [Arguments(null)]
    [Arguments("")]
    [Arguments("  ")]
    public async Task Unset_docker_host_means_the_default_socket(string? value)
    {
        var endpoint = DockerHost.Parse(value);

        await Assert.That(DockerHost.SocketPath(endpoint)).IsEqualTo("/var/run/docker.sock");
        await Assert.That(DockerHost.Describe(endpoint)).IsEqualTo("unix:///var/run/docker.sock");
    }

    [Test]
    public async Task Unix_scheme_names_a_socket_path()
    {
        var endpoint = DockerHost.Parse("unix:///run/user/1000/docker.sock");

        await Assert.That(DockerHost.SocketPath(endpoint)).IsEqualTo("/run/user/1000/docker.sock");
    }

    [Test]
    [Arguments("tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376")]
    [Arguments("tcp://docker.example:4243/", "tcp://docker.example:4243")]
    [Arguments("tcp://localhost", "tcp://localhost:2375")]
    [Arguments("http://localhost:2375", "tcp://localhost:2375")]
    [Arguments("tcp://[::1]:2375", "tcp://[::1]:2375")]
    public async Task Tcp_scheme_names_host_and_port(string value, string described)
    {
        var endpoint = DockerHost.Parse(value);

        await Assert.That(DockerHost.SocketPath(endpoint)).IsNull();
        await Assert.That(endpoint.Scheme).IsEqualTo("tcp");
        await Assert.That(DockerHost.Describe(endpoint)).IsEqualTo(described);
    }

    [Test]
    [Arguments("ssh://me@build-box", "ssh://")]
    [Arguments("npipe:////./pipe/docker_engine", "npipe://")]
    [Arguments("fd://", "fd://")]
    public async Task Unsupported_scheme_is_a_clear_error(string value, string scheme)
    {
        var ex = (await Assert.That(() => DockerHost.Parse(value)).ThrowsExactly<FormatException>())!;

        await Assert.That(ex.Message).Contains(scheme, StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains("unix://", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("/var/run/docker.sock")]
    [Arguments("unix://relative.sock")]
    [Arguments("tcp://")]
    public async Task Malformed_address_is_a_clear_error(string value)
    {
        var ex = (await Assert.That(() => DockerHost.Parse(value)).ThrowsExactly<FormatException>())!;

        await Assert.That(ex.Message).Contains(value, StringComparison.Ordinal);
    }

    [Test]
    public async Task Tls_verification_is_refused_rather_than_silently_dropped()
    {
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = "tcp://h:2376", ["DOCKER_TLS_VERIFY"] = "1" };

        var ex = (await Assert.That(() => DockerHost.FromEnvironment(env.GetValueOrDefault)).ThrowsExactly<FormatException>())!;

        await Assert.That(ex.Message).Contains("DOCKER_TLS_VERIFY", StringComparison.Ordinal);
    }

    [Test]
    public async Task Tls_verification_is_no_matter_for_a_unix_socket()
    {
        var env = new Dictionary<string, string> { ["DOCKER_TLS_VERIFY"] = "1" };

        await Assert.That(DockerHost.FromEnvironment(env.GetValueOrDefault)).IsEqualTo(DockerHost.Default);
    }

    [Test]
    public async Task Bad_docker_host_is_a_usage_error_only_once_docker_is_wanted(CancellationToken cancellationToken)
    {
        var connector = DockerConnectors.FromEnvironment(name => name == "DOCKER_HOST" ? "ssh://me@build-box" : null);

        var ex = (await Assert.That(async () => await connector.ConnectAsync(cancellationToken)).ThrowsExactly<Harmont.Aot.Model.PipelineException>())!;

        await Assert.That(ex.Message).Contains("ssh://", StringComparison.Ordinal);
    }

    [Test]
    public async Task Environment_is_read_through_the_given_lookup()
    {
        var endpoint = DockerHost.FromEnvironment(name => name == "DOCKER_HOST" ? "unix:///tmp/d.sock" : null);

        await Assert.That(DockerHost.SocketPath(endpoint)).IsEqualTo("/tmp/d.sock");
    }

    [Test]
    [Arguments("1.41", "1.41")]
    [Arguments("1.43", "1.43")]
    [Arguments("1.52", "1.52")]
    [Arguments("1.54", "1.52")]
    [Arguments("2.1", "1.52")]
    public async Task Api_version_is_the_lower_of_engine_and_runner(string server, string expected)
    {
        await Assert.That(DockerEngine.ChooseApiVersion(server)).IsEqualTo(Version.Parse(expected));
    }

    [Test]
    [Arguments("1.40")]
    [Arguments("1.24")]
    public async Task Engine_older_than_the_minimum_is_a_clear_error(string server)
    {
        var ex = (await Assert.That(() => DockerEngine.ChooseApiVersion(server)).ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains(server, StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains("1.41", StringComparison.Ordinal);
    }
}
