using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Keys;

/// <summary>
/// The <c>project</c> component of a key: an explicit name, else the normalised <c>origin</c> URL,
/// else the repository root path. Two repositories must never share entries by accident, and two
/// clones of one repository (or one reached by SSH and by HTTPS) should.
/// </summary>
internal static class ProjectIdentity
{
    public static async Task<string> ResolveAsync(string? explicitName, string root, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(explicitName))
        {
            return "name:" + explicitName.Trim();
        }

        var origin = await OriginUrlAsync(root, cancellationToken);
        return origin is not null ? "origin:" + NormaliseRemote(origin) : "path:" + Path.GetFullPath(root).TrimEnd('/');
    }

    /// <summary>
    /// <c>git@github.com:Org/Repo.git</c>, <c>ssh://git@github.com/Org/Repo</c> and
    /// <c>https://user:token@github.com/Org/Repo.git/</c> all become <c>github.com/org/repo</c>.
    /// Credentials never enter a key.
    /// </summary>
    public static string NormaliseRemote(string url)
    {
        var text = url.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            text = text[(scheme + 3)..];
        }
        else if (text.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 && !text[..colon].Contains('/', StringComparison.Ordinal))
        {
            text = text[..colon] + "/" + text[(colon + 1)..]; // scp-like git@host:path
        }

        var at = text.IndexOf('@', StringComparison.Ordinal);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (at >= 0 && (slash < 0 || at < slash))
        {
            text = text[(at + 1)..];
        }

        text = text.TrimEnd('/');
        if (text.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^4];
        }

        // Default ports say nothing about which repository it is.
        slash = text.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? text : text[..slash];
        var path = slash < 0 ? "" : text[slash..];
        if (host.EndsWith(":22", StringComparison.Ordinal) || host.EndsWith(":443", StringComparison.Ordinal))
        {
            host = host[..host.LastIndexOf(':')];
        }

        return (host + path).ToLowerInvariant();
    }

    private static async Task<string?> OriginUrlAsync(string root, CancellationToken cancellationToken) =>
        await Git.RunAsync(root, ["config", "--get", "remote.origin.url"], cancellationToken) is { ExitCode: 0 } git && git.Output.Trim().Length > 0
            ? git.Output.Trim()
            : null;
}
