using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>The one setting: oci://HOST[:PORT]/REPO with its mode, insecure and timeout options.</summary>
[NotInParallel(nameof(RemoteCacheSettingTests))]
public sealed class RemoteCacheSettingTests
{
    [Test]
    public async Task Setting_names_host_repository_and_defaults_to_read_write_over_tls()
    {
        var setting = RemoteCacheSetting.Parse("oci://ghcr.io/acme/ci-cache");

        await Assert.That((setting.Host, setting.Repository, setting.Mode)).IsEqualTo(("ghcr.io", "acme/ci-cache", RemoteCacheMode.ReadWrite));
        await Assert.That(setting.BaseAddress).IsEqualTo(new Uri("https://ghcr.io/"));
    }

    [Test]
    [Arguments("oci://127.0.0.1:5000/cache", "http://127.0.0.1:5000/")]
    [Arguments("oci://localhost:5000/cache", "http://localhost:5000/")]
    [Arguments("oci://registry.internal:5000/cache?insecure=1", "http://registry.internal:5000/")]
    [Arguments("oci://registry.internal:5000/cache", "https://registry.internal:5000/")]
    public async Task Plain_http_only_for_loopback_or_when_asked(string text, string address) =>
        await Assert.That(RemoteCacheSetting.Parse(text).BaseAddress).IsEqualTo(new Uri(address));

    [Test]
    [Arguments("?mode=read", true, false)]
    [Arguments("?mode=write", false, true)]
    [Arguments("?mode=read-write&timeout=5s", true, true)]
    public async Task Mode_is_read_write_or_both(string query, bool read, bool write)
    {
        var setting = RemoteCacheSetting.Parse("oci://h:1/r" + query);

        await Assert.That((setting.CanRead, setting.CanWrite)).IsEqualTo((read, write));
    }

    [Test]
    [Arguments("https://ghcr.io/a", "does not start with oci://")]
    [Arguments("oci://ghcr.io", "names no repository")]
    [Arguments("oci://ghcr.io/Acme", "repository 'Acme'")]
    [Arguments("oci://ghcr.io:99999/a", "not a number")]
    [Arguments("oci://ghcr.io/a?mode=all", "mode 'all'")]
    [Arguments("oci://ghcr.io/a?timeout=soon", "timeout")]
    [Arguments("oci://ghcr.io/a?colour=red", "unknown option 'colour'")]
    public async Task Malformed_setting_is_one_usage_error_naming_the_problem(string text, string problem)
    {
        var error = (await Assert.That(() => RemoteCacheSetting.Parse(text)).ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains(problem, StringComparison.Ordinal);
        await Assert.That(error.Message).Contains("oci://HOST[:PORT]/REPOSITORY", StringComparison.Ordinal);
    }

    [Test]
    public async Task Flag_wins_over_the_environment_and_neither_means_none()
    {
        string? Env(string name) => name == RemoteCacheSetting.EnvironmentVariable ? "oci://env:1/from-env" : null;

        await Assert.That(RemoteCacheSetting.Resolve("oci://flag:1/from-flag", Env)!.Repository).IsEqualTo("from-flag");
        await Assert.That(RemoteCacheSetting.Resolve(null, Env)!.Repository).IsEqualTo("from-env");
        await Assert.That(RemoteCacheSetting.Resolve(null, _ => null)).IsNull();
    }
}
