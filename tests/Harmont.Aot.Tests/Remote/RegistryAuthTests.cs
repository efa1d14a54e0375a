using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Tests;

/// <summary>Basic auth against a registry with a bcrypt htpasswd file, and where the credential comes from.</summary>
[SupportedOSPlatform("linux")]
public sealed class RegistryAuthTests
{
    private const string User = "ci";
    private const string Password = "s3cret-Pa55";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Credential_from_the_environment_gets_in()
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        using var client = RegistryClientTests.Client(registry, "team/auth", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", Password)));

        await PushAndReadAsync(client);
    }

    [Fact]
    public async Task No_credential_and_a_wrong_one_are_denied()
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        using var anonymous = RegistryClientTests.Client(registry, "team/auth", env: Env(("HOME", Path.Combine(registry.Root, "nohome"))));
        using var wrong = RegistryClientTests.Client(registry, "team/auth", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", "guess")));

        var none = await Assert.ThrowsAsync<RegistryException>(() => anonymous.HasBlobAsync(OciDigest.Of([1]), Cancel));
        var bad = await Assert.ThrowsAsync<RegistryException>(() => wrong.HasBlobAsync(OciDigest.Of([1]), Cancel));

        Assert.True(none.IsDenied && bad.IsDenied, $"{none.Message}\n{bad.Message}");
        Assert.DoesNotContain("guess", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credential_from_docker_config_auths_gets_in()
    {
        await using var registry = await RegistryServer.StartAsync(User, Password);
        var config = Directory.CreateDirectory(Path.Combine(registry.Root, "docker-config")).FullName;
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), "{\"auths\":{\"http://" + registry.Host + "\":{\"auth\":\"" + auth + "\"}}}", Cancel);
        using var client = RegistryClientTests.Client(registry, "team/auth", env: Env(("DOCKER_CONFIG", config)));

        await PushAndReadAsync(client);
    }

    [Fact]
    public async Task Credential_from_a_docker_credential_helper_gets_in()
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
            """, Cancel);
        File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), $$$"""{"credHelpers":{"{{{registry.Host}}}":"harmonttest"}}""", Cancel);
        using var client = RegistryClientTests.Client(
            registry, "team/auth", env: Env(("DOCKER_CONFIG", config), ("PATH", $"{bin}:{Environment.GetEnvironmentVariable("PATH")}")));

        await PushAndReadAsync(client);
    }

    [Fact]
    public async Task Bearer_challenge_is_answered_with_a_token_from_the_realm()
    {
        using var tokens = new TokenServer(User, Password);
        await using var registry = await RegistryServer.StartAsync(tokens);
        using var client = RegistryClientTests.Client(registry, "team/bearer", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", Password)));

        await PushAndReadAsync(client);

        // One token for pulling, one for pushing; each is kept and reused for its scope.
        Assert.Equal(2, tokens.Issued);
    }

    [Fact]
    public async Task Bearer_realm_refusing_the_credential_is_denied()
    {
        using var tokens = new TokenServer(User, Password);
        await using var registry = await RegistryServer.StartAsync(tokens);
        using var client = RegistryClientTests.Client(registry, "team/bearer", env: Env(("HARMONT_CACHE_REMOTE_USER", User), ("HARMONT_CACHE_REMOTE_PASSWORD", "wrong")));

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.HasBlobAsync(OciDigest.Of([1]), Cancel));

        Assert.True(error.IsDenied, error.Message);
    }

    [Fact]
    public void Challenge_parameters_keep_commas_inside_quotes()
    {
        var parameters = RegistryClient.ParseParameters("realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"");

        Assert.Equal("https://auth.example/token", parameters["realm"]);
        Assert.Equal("registry.example", parameters["service"]);
        Assert.Equal("repository:a/b:pull,push", parameters["scope"]);
    }

    private static async Task PushAndReadAsync(RegistryClient client)
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);
        Assert.Equal(content, await RegistryClientTests.DownloadAsync(client, digest, content.Length));
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;
}
