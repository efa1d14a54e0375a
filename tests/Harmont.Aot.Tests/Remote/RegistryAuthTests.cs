using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Cache.Remote;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>Basic auth against a registry with a bcrypt htpasswd file, and where the credential comes from.</summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(RegistryAuthTests))]
public sealed class RegistryAuthTests
{
    private const string User = "ci";
    private const string Password = "s3cret-Pa55";

    private static CancellationToken Cancel => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Test]
    public async Task Credential_from_the_environment_gets_in()
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        using var client = RegistryClientTests.Client(registry, "team/auth", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", Password)));

        await PushAndReadAsync(client);
    }

    [Test]
    public async Task No_credential_and_a_wrong_one_are_denied(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        using var anonymous = RegistryClientTests.Client(registry, "team/auth", env: Env(("HOME", Path.Combine(registry.Root, "nohome"))));
        using var wrong = RegistryClientTests.Client(registry, "team/auth", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", "guess")));

        var none = (await Assert.That(async () => await anonymous.HasBlobAsync(OciDigest.Of([1]), cancellationToken)).ThrowsExactly<RegistryException>())!;
        var bad = (await Assert.That(async () => await wrong.HasBlobAsync(OciDigest.Of([1]), cancellationToken)).ThrowsExactly<RegistryException>())!;

        await Assert.That(none.IsDenied && bad.IsDenied).IsTrue().Because($"{none.Message}\n{bad.Message}");
        await Assert.That(bad.Message).DoesNotContain("guess", StringComparison.Ordinal);
    }

    [Test]
    public async Task Credential_from_docker_config_auths_gets_in(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        var config = Directory.CreateDirectory(Path.Combine(registry.Root, "docker-config")).FullName;
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), "{\"auths\":{\"http://" + registry.Host + "\":{\"auth\":\"" + auth + "\"}}}", cancellationToken);
        using var client = RegistryClientTests.Client(registry, "team/auth", env: Env(("DOCKER_CONFIG", config)));

        await PushAndReadAsync(client);
    }

    [Test]
    public async Task Credential_from_a_docker_credential_helper_gets_in(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        var config = Directory.CreateDirectory(Path.Combine(registry.Root, "docker-config")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(registry.Root, "bin")).FullName;
        var helper = Path.Combine(bin, "docker-credential-harmonttest");

        // The helper answers only for the host it is asked about, as real helpers do.
        await File.WriteAllTextAsync(helper, $$"""
            #!/bin/sh
            [ "$1" = get ] || exit 1
            read host
            [ "$host" = "{{registry.Host}}" ] || { echo "credentials not found in native keychain"; exit 1; }
            printf '{"ServerURL":"%s","Username":"{{User}}","Secret":"{{Password}}"}' "$host"
            """, cancellationToken);
        File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), $$$"""{"credHelpers":{"{{{registry.Host}}}":"harmonttest"}}""", cancellationToken);
        using var client = RegistryClientTests.Client(
            registry, "team/auth", env: Env(("DOCKER_CONFIG", config), ("PATH", $"{bin}:{Environment.GetEnvironmentVariable("PATH")}")));

        await PushAndReadAsync(client);
    }

    [Test]
    public async Task Bearer_challenge_is_answered_with_a_token_from_the_realm()
    {
        using var tokens = new TokenServer(User, Password);
        await using var registry = await RegistryServer.StartAsync(tokens);
        using var client = RegistryClientTests.Client(registry, "team/bearer", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", Password)));

        await PushAndReadAsync(client);

        // One token for pulling, one for pushing; each is kept and reused for its scope.
        await Assert.That(tokens.Issued).IsEqualTo(2);
    }

    [Test]
    public async Task Bearer_realm_refusing_the_credential_is_denied(CancellationToken cancellationToken)
    {
        using var tokens = new TokenServer(User, Password);
        await using var registry = await RegistryServer.StartAsync(tokens);
        using var client = RegistryClientTests.Client(registry, "team/bearer", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", "wrong")));

        var error = (await Assert.That(async () => await client.HasBlobAsync(OciDigest.Of([1]), cancellationToken)).ThrowsExactly<RegistryException>())!;

        await Assert.That(error.IsDenied).IsTrue().Because(error.Message);
    }

    [Test]
    public async Task Challenge_parameters_keep_commas_inside_quotes()
    {
        var parameters = RegistryClient.ParseParameters("realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"");

        await Assert.That(parameters["realm"]).IsEqualTo("https://auth.example/token");
        await Assert.That(parameters["service"]).IsEqualTo("registry.example");
        await Assert.That(parameters["scope"]).IsEqualTo("repository:a/b:pull,push");
    }

    private static async Task PushAndReadAsync(RegistryClient client)
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);
        await Assert.That(await RegistryClientTests.DownloadAsync(client, digest, content.Length))
            .IsEquivalentTo(content, CollectionOrdering.Matching);
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;
}
