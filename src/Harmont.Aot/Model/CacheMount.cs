using System.Text;

namespace Harmont.Aot.Model;

/// <summary>A persistent directory mounted into a step (<see cref="CacheMountAttribute"/>); never part of a key or an entry.</summary>
/// <param name="Path">Where the step sees it: absolute, or <c>~/…</c>.</param>
/// <param name="Id">Which directory: steps naming the same id share it; null takes one made from the path.</param>
public sealed record CacheMount(string Path, string? Id)
{
    private const int MaxIdLength = 64;

    /// <summary>The id the directory is kept under: the one given, or one made from the path.</summary>
    public string EffectiveId => Id ?? DefaultId(Path);

    /// <summary>The path's characters, each one not allowed in an id made a '-': <c>/root/.cache/ccache</c> is <c>root-.cache-ccache</c>.</summary>
    internal static string DefaultId(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var trimmed = path.StartsWith("~/", StringComparison.Ordinal) ? "home-" + path[2..] : path.TrimStart('/');
        var id = new StringBuilder();
        foreach (var c in trimmed.TrimEnd('/'))
        {
            id.Append(IsIdChar(c) ? c : '-');
        }

        var text = id.ToString().TrimStart('.', '-');
        return text.Length > MaxIdLength ? text[..MaxIdLength] : text;
    }

    /// <summary>What is wrong with this mount for step <paramref name="step"/>, or null: bad input is said in one line with the fix.</summary>
    internal string? Problem(string step)
    {
        if (Path is null || !(Path.StartsWith('/') || Path.StartsWith("~/", StringComparison.Ordinal)))
        {
            return $"step '{step}': [CacheMount(\"{Path}\")] is not an absolute path or one under '~/'; write it like \"/root/.cache/ccache\" or \"~/.nuget/packages\".";
        }

        var parts = Path.TrimStart('~').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or "..") || Path.Contains(':', StringComparison.Ordinal) || Path.Contains('\0', StringComparison.Ordinal))
        {
            return $"step '{step}': [CacheMount(\"{Path}\")] must name a directory below '/' without '.', '..' or ':'.";
        }

        if (parts[0] == "workspace" && Path.StartsWith('/'))
        {
            return $"step '{step}': [CacheMount(\"{Path}\")] is inside /workspace, which is the step's workspace; mount it elsewhere.";
        }

        var id = EffectiveId;
        if (id.Length is 0 or > MaxIdLength || !id.All(IsIdChar) || id[0] is '.' or '-')
        {
            return $"step '{step}': cache mount id '{id}' must be 1 to {MaxIdLength} letters, digits, '.', '_' or '-', not starting with '.' or '-'; set Id = \"…\".";
        }

        return null;
    }

    private static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
