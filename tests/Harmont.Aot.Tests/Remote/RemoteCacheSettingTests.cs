using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>The one setting: oci://HOST[:PORT]/REPO with its mode, insecure and timeout options.</summary>
public sealed class RemoteCacheSettingTests
{
    [Fact]
    public void Setting_names_host_repository_and_defaults_to_read_write_over_tls()
    {
        var setting = RemoteCacheSetting.Parse("oci://ghcr.io/acme/ci-cache");

        Assert.Equal(("ghcr.io", "acme/ci-cache", RemoteCacheMode.ReadWrite), (setting.Host, setting.Repository, setting.Mode));
        Assert.Equal(new Uri("https://ghcr.io/"), setting.BaseAddress);
    }

    [Theory]
    [InlineData("oci://127.0.0.1:5000/cache", "http://127.0.0.1:5000/")]
    [InlineData("oci://localhost:5000/cache", "http://localhost:5000/")]
    [InlineData("oci://registry.internal:5000/cache?insecure=1", "http://registry.internal:5000/")]
    [InlineData("oci://registry.internal:5000/cache", "https://registry.internal:5000/")]
    public void Plain_http_only_for_loopback_or_when_asked(string text, string address) =>
        Assert.Equal(new Uri(address), RemoteCacheSetting.Parse(text).BaseAddress);

    [Theory]
    [InlineData("?mode=read", true, false)]
    [InlineData("?mode=write", false, true)]
    [InlineData("?mode=read-write&timeout=5s", true, true)]
    public void Mode_is_read_write_or_both(string query, bool read, bool write)
    {
        var setting = RemoteCacheSetting.Parse("oci://h:1/r" + query);

        Assert.Equal((read, write), (setting.CanRead, setting.CanWrite));
    }

    [Theory]
    [InlineData("https://ghcr.io/a", "does not start with oci://")]
    [InlineData("oci://ghcr.io", "names no repository")]
    [InlineData("oci://ghcr.io/Acme", "repository 'Acme'")]
    [InlineData("oci://ghcr.io:99999/a", "not a number")]
    [InlineData("oci://ghcr.io/a?mode=all", "mode 'all'")]
    [InlineData("oci://ghcr.io/a?timeout=soon", "timeout")]
    [InlineData("oci://ghcr.io/a?colour=red", "unknown option 'colour'")]
    public void Malformed_setting_is_one_usage_error_naming_the_problem(string text, string problem)
    {
        var error = Assert.Throws<PipelineException>(() => RemoteCacheSetting.Parse(text));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("oci://HOST[:PORT]/REPOSITORY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flag_wins_over_the_environment_and_neither_means_none()
    {
        string? Env(string name) => name == RemoteCacheSetting.EnvironmentVariable ? "oci://env:1/from-env" : null;

        Assert.Equal("from-flag", RemoteCacheSetting.Resolve("oci://flag:1/from-flag", Env)!.Repository);
        Assert.Equal("from-env", RemoteCacheSetting.Resolve(null, Env)!.Repository);
        Assert.Null(RemoteCacheSetting.Resolve(null, _ => null));
    }
}
