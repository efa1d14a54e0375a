using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Keys;

/// <summary>
/// The <c>project</c> component of a key: an explicit name, else the normalised <c>origin</c> URL,
/// else the repository root path. Two repositories must never share entries by accident, and two
/// clones of one repository (or one reached by SSH and by HTTPS) should.
/// </summary>
internal static class ProjectIdentity
{
    private const string MemoFile = "project-identity";

    /// <summary>The project component for the repository at <paramref name="root"/>.</summary>
    /// <param name="explicitName">The pipeline's own <c>Project</c>, if it names one.</param>
    /// <param name="root">The repository.</param>
    /// <param name="cancellationToken">Stops git.</param>
    /// <param name="memoDirectory">
    /// Where git's answer is remembered (the cache directory), so a run whose git configuration has not changed
    /// since starts no git for it; null asks git every time.
    /// </param>
    public static async Task<string> ResolveAsync(string? explicitName, string root, CancellationToken cancellationToken, string? memoDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitName))
        {
            return "name:" + explicitName.Trim();
        }

        var full = Path.GetFullPath(root).TrimEnd('/');
        var signature = memoDirectory is null ? null : ConfigSignature(full);
        var memo = memoDirectory is null ? null : Path.Combine(memoDirectory, MemoFile);
        if (signature is not null && Remembered(memo!, full, signature) is { } known)
        {
            return known;
        }

        var origin = await OriginUrlAsync(root, cancellationToken);
        var identity = origin is not null ? "origin:" + NormaliseRemote(origin) : "path:" + full;
        if (signature is not null)
        {
            Remember(memo!, full, signature, identity);
        }

        return identity;
    }

    // What git's answer depends on: the files it reads the remote from and the variables that move them. Null
    // when it cannot be told safely: a config that includes other files, one written in the last two seconds (a
    // second write within the file system's time resolution would not show), a work tree whose .git is a file.
    private static string? ConfigSignature(string root)
    {
        Func<string, string?> env = Environment.GetEnvironmentVariable;
        if (env("GIT_DIR") is not null || env("GIT_COMMON_DIR") is not null || env("GIT_CONFIG_PARAMETERS") is not null || env("GIT_CONFIG_COUNT") is not null
            || env("GIT_CONFIG") is not null || !Directory.Exists(Path.Combine(root, ".git")))
        {
            return null;
        }

        var home = env("HOME") ?? "";
        var xdg = env("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config");
        string[] files =
        [
            env("GIT_CONFIG_SYSTEM") ?? "/etc/gitconfig",
            env("GIT_CONFIG_GLOBAL") ?? Path.Combine(home, ".gitconfig"),
            Path.Combine(xdg, "git", "config"),
            Path.Combine(root, ".git", "config"),
            Path.Combine(root, ".git", "config.worktree"),
        ];
        var signature = new System.Text.StringBuilder(env("GIT_CONFIG_NOSYSTEM") ?? "-");
        foreach (var file in files)
        {
            var info = new FileInfo(file);
            signature.Append('|').Append(file);
            if (!info.Exists)
            {
                continue;
            }

            if (info.LastWriteTimeUtc > DateTime.UtcNow.AddSeconds(-2) || info.Length > 1 << 20
                || File.ReadAllText(file).Contains("[include", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            signature.Append(':').Append(info.LastWriteTimeUtc.Ticks).Append(':').Append(info.Length);
        }

        return signature.ToString();
    }

    // Lines of "root \t signature \t identity"; a damaged memo is only a miss.
    private static string? Remembered(string memo, string root, string signature)
    {
        try
        {
            foreach (var line in File.ReadLines(memo))
            {
                var fields = line.Split('\t');
                if (fields.Length == 3 && fields[0] == root && fields[1] == signature)
                {
                    return fields[2];
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static void Remember(string memo, string root, string signature, string identity)
    {
        if ($"{root}{signature}{identity}".AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
        {
            return;
        }

        try
        {
            var lines = File.Exists(memo) ? File.ReadLines(memo).Where(l => !l.StartsWith(root + "\t", StringComparison.Ordinal)).TakeLast(63).ToList() : [];
            lines.Add($"{root}\t{signature}\t{identity}");
            AtomicFile.Write(memo, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only saves a git the next run.
        }
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
