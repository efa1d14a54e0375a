using System.Globalization;
using System.Net;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cache.Remote;

/// <summary>What a run may do with the shared cache: read hits from it, write its new entries to it, or both.</summary>
[Flags]
internal enum RemoteCacheMode
{
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>
/// The one setting that shares the step cache through an OCI registry:
/// <c>oci://HOST[:PORT]/REPO[?mode=read|write|read-write][&amp;insecure=1][&amp;timeout=30s][&amp;push=wait|background]</c>, from
/// <c>--cache-remote</c> or <c>HARMONT_CACHE_REMOTE</c>. Everything about the remote is in the one string, so a CI
/// variable carries it whole.
/// </summary>
internal sealed record RemoteCacheSetting(string Host, string Repository, RemoteCacheMode Mode, bool Insecure, TimeSpan Timeout)
{
    /// <summary>The environment variable that sets it when the flag does not.</summary>
    public const string EnvironmentVariable = "HARMONT_CACHE_REMOTE";

    /// <summary>How long one request may wait for an answer, or a download for its next bytes, by default.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const string Scheme = "oci://";

    /// <summary>Whether the registry is spoken to over plain HTTP: asked for, or a loopback host, as Docker does.</summary>
    public bool PlainHttp => Insecure || IsLoopback(HostName);

    /// <summary>The host without its port.</summary>
    public string HostName => Host.StartsWith('[') ? Host[..(Host.IndexOf(']', StringComparison.Ordinal) + 1)] : Host.Split(':')[0];

    public bool CanRead => Mode.HasFlag(RemoteCacheMode.Read);

    public bool CanWrite => Mode.HasFlag(RemoteCacheMode.Write);

    /// <summary>
    /// Whether a run waits for its pushes before it ends (<c>push=wait</c>), so a later job finds its entries; else
    /// (<c>push=background</c>) the pushes still going at the end stay owed and a later run or <c>cache push</c>
    /// finishes them. Waiting is the default where <c>CI</c> is set, as every CI system sets it.
    /// </summary>
    public bool WaitForPushes { get; init; } = true;

    /// <summary>The registry's base address, <c>https://HOST[:PORT]</c> (or <c>http://</c>).</summary>
    public Uri BaseAddress => new($"{(PlainHttp ? "http" : "https")}://{Host}/");

    public override string ToString() =>
        $"{Scheme}{Host}/{Repository}?mode={ModeName(Mode)}{(Insecure ? "&insecure=1" : "")}";

    /// <summary>
    /// The setting from the flag, else the environment; null when neither is set. A malformed one is a usage error
    /// naming what is wrong and the form to use.
    /// </summary>
    public static RemoteCacheSetting? Resolve(string? flag, Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var (text, source) = !string.IsNullOrWhiteSpace(flag) ? (flag, "--cache-remote") : (getEnv(EnvironmentVariable), EnvironmentVariable);
        return string.IsNullOrWhiteSpace(text) ? null : Parse(text.Trim(), source, waitByDefault: IsCi(getEnv("CI")));
    }

    /// <summary>Whether a <c>CI</c> variable says this is a CI job (GitHub Actions, GitLab, Buildkite and the rest set <c>CI=true</c>).</summary>
    public static bool IsCi(string? value) =>
        !string.IsNullOrWhiteSpace(value) && !value.Trim().Equals("false", StringComparison.OrdinalIgnoreCase) && value.Trim() != "0";

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> names where it came from in errors.</summary>
    public static RemoteCacheSetting Parse(string text, string source = "--cache-remote", bool waitByDefault = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        PipelineException Bad(string why) => new(
            $"{source} '{text}' {why}; write oci://HOST[:PORT]/REPOSITORY, optionally with ?mode=read|write|read-write, &insecure=1, &timeout=30s or &push=wait|background.");

        if (!text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw Bad("does not start with oci://");
        }

        var rest = text[Scheme.Length..];
        var query = "";
        if (rest.IndexOf('?', StringComparison.Ordinal) is var q and >= 0)
        {
            (rest, query) = (rest[..q], rest[(q + 1)..]);
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            throw Bad("names no repository after the host");
        }

        var (host, repository) = (rest[..slash], rest[(slash + 1)..].TrimEnd('/'));
        if (Uri.CheckHostName(host.Split(':')[0]) == UriHostNameType.Unknown && !host.StartsWith('['))
        {
            throw Bad($"names the host '{host}', which is not a host name or address");
        }

        if (host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')
            && !(int.TryParse(host[(host.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536))
        {
            throw Bad($"names the port in '{host}', which is not a number from 1 to 65535");
        }

        if (!IsRepository(repository))
        {
            throw Bad($"names the repository '{repository}', which is not lowercase path components of letters, digits and . _ - separators");
        }

        var mode = RemoteCacheMode.ReadWrite;
        var insecure = false;
        var timeout = DefaultTimeout;
        var wait = waitByDefault;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? (pair[..eq], pair[(eq + 1)..]) : (pair, "");
            switch (name)
            {
                case "mode":
                    mode = value switch
                    {
                        "read" => RemoteCacheMode.Read,
                        "write" => RemoteCacheMode.Write,
                        "read-write" or "readwrite" or "rw" => RemoteCacheMode.ReadWrite,
                        _ => throw Bad($"asks for mode '{value}'; the modes are read, write and read-write"),
                    };
                    break;
                case "insecure":
                    insecure = value is "" or "1" or "true" ? true
                        : value is "0" or "false" ? false
                        : throw Bad($"sets insecure to '{value}'; write insecure=1 or insecure=0");
                    break;
                case "timeout":
                    timeout = DurationParser.Parse(value, out _) is { } ticks && ticks > 0
                        ? TimeSpan.FromTicks(ticks)
                        : throw Bad($"sets timeout to '{value}', which is not a duration such as 30s or 2m");
                    break;
                case "push":
                    wait = value switch
                    {
                        "wait" => true,
                        "background" => false,
                        _ => throw Bad($"sets push to '{value}'; write push=wait (a run waits for its pushes) or push=background"),
                    };
                    break;
                default:
                    throw Bad($"has the unknown option '{name}'");
            }
        }

        return new RemoteCacheSetting(host.ToLowerInvariant(), repository, mode, insecure, timeout) { WaitForPushes = wait };
    }

    /// <summary>Whether <paramref name="host"/> (no port) is this machine: <c>localhost</c>, 127.0.0.0/8 or ::1.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static string ModeName(RemoteCacheMode mode) => mode switch
    {
        RemoteCacheMode.Read => "read",
        RemoteCacheMode.Write => "write",
        _ => "read-write",
    };

    // The distribution spec's name grammar: path components of [a-z0-9]+ joined by '.', '_', '__' or '-'+.
    private static bool IsRepository(string name) =>
        name.Length is > 0 and <= 255
        && name.Split('/').All(component =>
            component.Length > 0 && char.IsAsciiLetterLower(component[0]) | char.IsAsciiDigit(component[0])
            && char.IsAsciiLetterLower(component[^1]) | char.IsAsciiDigit(component[^1])
            && component.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'));
}
