using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Keys;

/// <summary>
/// The <c>project</c> component of a key: an explicit name, else the normalised <c>origin</c> URL, else
/// the repository's root commit, else the repository root path. Two repositories must never share entries
/// by accident, and two clones of one repository (or one reached by SSH and by HTTPS, or at two paths with
/// no remote) should.
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
        var head = signature is null ? null : HeadSignature(full);
        var memo = memoDirectory is null ? null : Path.Combine(memoDirectory, MemoFile);
        if (signature is not null && Remembered(memo!, full, signature, head) is { } known)
        {
            return known;
        }

        var origin = await OriginUrlAsync(root, cancellationToken);
        var identity = origin is not null ? "origin:" + NormaliseRemote(origin)
            : await RootCommitAsync(root, cancellationToken) is { } commit ? "root:" + commit
            : "path:" + full;
        if (signature is not null)
        {
            Remember(memo!, full, signature, head, identity);
        }

        return identity;
    }

    /// <summary>
    /// Says which identity is in force and what it came from, for <c>explain</c>: a user whose clones share
    /// nothing needs to know why, and how to choose one.
    /// </summary>
    public static string Describe(string identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var colon = identity.IndexOf(':', StringComparison.Ordinal);
        var value = colon < 0 ? identity : identity[(colon + 1)..];
        return (colon < 0 ? "" : identity[..colon]) switch
        {
            "name" => $"project: {value} (named by [Pipeline(Project=…)])",
            "origin" => $"project: origin remote {value}",
            "root" => $"project: root commit {value[..Math.Min(8, value.Length)]} (no origin remote; every clone of this history shares it; set [Pipeline(Project=…)] to choose one)",
            "path" => $"project: repository path {value} (no origin remote and no root commit to use: no commit yet, a shallow clone or not a git repository; " +
                "a clone at another path shares nothing; set [Pipeline(Project=…)] to choose one)",
            _ => $"project: {identity}",
        };
    }

    // The first commit of HEAD's first-parent line, which every full clone has whatever its path. Following first
    // parents makes it one commit when unrelated histories were merged in, and a history merged in later does not
    // move it. A shallow clone's oldest commit is only where its history was cut, so it has none; nor has an unborn
    // HEAD. Replacement refs are ignored: they are local and would give two clones two answers.
    private static async Task<string?> RootCommitAsync(string root, CancellationToken cancellationToken)
    {
        var shallow = Git.RunAsync(root, ["rev-parse", "--is-shallow-repository"], cancellationToken);
        var roots = Git.RunAsync(root, ["--no-replace-objects", "rev-list", "--first-parent", "--max-parents=0", "HEAD"], cancellationToken);
        await Task.WhenAll(shallow, roots);
        if (shallow.Result is not { ExitCode: 0 } isShallow || isShallow.Output.Trim() != "false" || roots.Result is not { ExitCode: 0 } listed)
        {
            return null;
        }

        var commits = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return commits.Length == 1 && commits[0].Length is 40 or 64 && commits[0].All(char.IsAsciiHexDigitLower) ? commits[0] : null;
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

    // What a root commit (or its absence) depends on besides the configuration: HEAD, the commit its branch names, and
    // whether the history is cut short (shallow) or rewritten (grafts). Null when it cannot be told safely: a ref
    // store other than files, a packed ref written in the last two seconds.
    private static string? HeadSignature(string root)
    {
        var git = Path.Combine(root, ".git");
        try
        {
            if (Directory.Exists(Path.Combine(git, "reftable")) || new FileInfo(Path.Combine(git, "HEAD")) is not { Exists: true, Length: < 4096 } headFile)
            {
                return null;
            }

            var head = File.ReadAllText(headFile.FullName).Trim();
            var signature = new System.Text.StringBuilder(head);
            if (head.StartsWith("ref: ", StringComparison.Ordinal))
            {
                var name = head[5..];
                if (!name.StartsWith("refs/", StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
                {
                    return null;
                }

                // A loose ref's content is the commit; a packed one is told by its file's change.
                var loose = new FileInfo(Path.Combine(git, name));
                signature.Append('|').Append(loose is { Exists: true, Length: < 4096 } ? File.ReadAllText(loose.FullName).Trim() : Stat(Path.Combine(git, "packed-refs")));
            }

            foreach (var cut in new[] { "shallow", Path.Combine("info", "grafts") })
            {
                signature.Append('|').Append(Stat(Path.Combine(git, cut)));
            }

            return signature.ToString().Contains('\0', StringComparison.Ordinal) ? null : signature.ToString();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "\0" (never in a real signature) marks a file too fresh to be told by its time and size.
        static string Stat(string file) =>
            new FileInfo(file) is not { Exists: true } info ? "-"
            : info.LastWriteTimeUtc > DateTime.UtcNow.AddSeconds(-2) ? "\0"
            : $"{info.LastWriteTimeUtc.Ticks}:{info.Length}";
    }

    // Lines of "root \t config signature \t head signature \t identity"; a damaged memo is only a miss. An origin
    // identity depends on the configuration alone; a root commit or a path also on HEAD's history, so it is
    // remembered only with a head signature and served only while that matches.
    private static string? Remembered(string memo, string root, string signature, string? head)
    {
        try
        {
            foreach (var line in File.ReadLines(memo))
            {
                var fields = line.Split('\t');
                if (fields.Length == 4 && fields[0] == root && fields[1] == signature
                    && (fields[3].StartsWith("origin:", StringComparison.Ordinal) || (head is not null && fields[2] == head)))
                {
                    return fields[3];
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static void Remember(string memo, string root, string signature, string? head, string identity)
    {
        if ((head is null && !identity.StartsWith("origin:", StringComparison.Ordinal))
            || $"{root}{signature}{head}{identity}".AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
        {
            return;
        }

        try
        {
            var lines = File.Exists(memo) ? File.ReadLines(memo).Where(l => !l.StartsWith(root + "\t", StringComparison.Ordinal)).TakeLast(63).ToList() : [];
            lines.Add($"{root}\t{signature}\t{head ?? "-"}\t{identity}");
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
