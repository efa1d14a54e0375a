namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// A step's output workspace as the step itself lists it at its end, with no product hook: a shell
/// suffix prints one marked line per path (type, mode, content hash or link target, never following
/// links), and <see cref="Parse"/> turns the step's stdout back into a map. Works with coreutils and busybox.
/// </summary>
public static class Manifest
{
    /// <summary>Starts every manifest line, so they separate from the step's own output.</summary>
    public const string Marker = "@@";

    // The busybox image has no sha256sum or readlink applet links, but has busybox itself.
    private const string Suffix =
        """
        echo @@begin
        if command -v sha256sum >/dev/null 2>&1; then S=sha256sum; R=readlink; else S='busybox sha256sum'; R='busybox readlink'; fi
        find . -mindepth 1 -type d -exec stat -c '@@D %a %n' {} +
        find . -type f -exec stat -c '@@F %a %n' {} +
        find . -type f -exec $S {} + | sed 's/^/@@H /'
        find . -type l | while read -r p; do echo "@@L $p $($R "$p")"; done
        find . -mindepth 1 ! -type d ! -type f ! -type l | sed 's/^/@@O /'
        """;

    /// <summary>The step's command: its operations, then the listing.</summary>
    public static string Command(IEnumerable<string> ops) => string.Join("\n", ops.Append(Suffix));

    /// <summary>The step's own output lines, without the listing.</summary>
    public static IReadOnlyList<string> OwnLines(IEnumerable<string> stdout) =>
        [.. stdout.Where(l => !l.StartsWith(Marker, StringComparison.Ordinal))];

    /// <summary>Path (relative, no <c>./</c>) to its description: <c>d 755</c>, <c>f 644 sha</c>, <c>l -> target</c>, <c>other</c>.</summary>
    public static SortedDictionary<string, string> Parse(IEnumerable<string> stdout)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        var modes = new Dictionary<string, string>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in stdout.Where(l => l.StartsWith(Marker, StringComparison.Ordinal) && l.Length > 4))
        {
            var body = line[4..];
            switch (line[2])
            {
                case 'D':
                    var (dirMode, dir) = Split(body);
                    entries[Relative(dir)] = "d " + dirMode;
                    break;
                case 'F':
                    var (fileMode, file) = Split(body);
                    modes[Relative(file)] = fileMode;
                    break;
                case 'H':
                    var (hash, hashed) = Split(body);
                    hashes[Relative(hashed.TrimStart(' ', '*'))] = hash;
                    break;
                case 'L':
                    var (link, target) = Split(body);
                    entries[Relative(link)] = "l -> " + target;
                    break;
                case 'O':
                    entries[Relative(body)] = "other";
                    break;
            }
        }

        foreach (var (path, mode) in modes)
        {
            entries[path] = $"f {mode} {hashes.GetValueOrDefault(path, "?")}";
        }

        return entries;
    }

    /// <summary>The first path (in byte order) where two listings differ, with both sides; null when equal.</summary>
    public static (string Path, string? Left, string? Right)? FirstDifference(
        SortedDictionary<string, string> left, SortedDictionary<string, string> right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        foreach (var path in left.Keys.Union(right.Keys).Order(StringComparer.Ordinal))
        {
            var l = left.GetValueOrDefault(path);
            var r = right.GetValueOrDefault(path);
            if (l != r)
            {
                return (path, l, r);
            }
        }

        return null;
    }

    private static (string Head, string Tail) Split(string text)
    {
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (text, "") : (text[..space], text[(space + 1)..]);
    }

    private static string Relative(string path) => path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
}
