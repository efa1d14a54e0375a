using Harmont.Aot.Keys;

namespace Harmont.Aot.Tuning;

/// <summary>
/// Narrows an onChange glob that matched files the step's output does not depend on: the glob's matches are
/// grouped by the first path segment below its literal prefix, and every group holding such a file is left out.
/// The globs kept match exactly the other groups' files, so nothing the step does depend on leaves its key.
/// </summary>
internal static class GlobNarrowing
{
    private static readonly System.Buffers.SearchValues<char> Wildcards = System.Buffers.SearchValues.Create("*?[{");

    /// <summary>The narrowed globs and the groups left out (as globs); null when the glob cannot be narrowed this way.</summary>
    /// <param name="glob">The onChange glob.</param>
    /// <param name="files">Every file of the source it matches now.</param>
    /// <param name="irrelevant">Files it matched whose changes left the step's output byte-identical.</param>
    public static (List<string> Kept, List<string> Dropped)? Narrow(string glob, IEnumerable<string> files, IReadOnlySet<string> irrelevant)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(irrelevant);
        var segments = glob.Split('/');
        var literal = segments.TakeWhile(s => s.AsSpan().IndexOfAny(Wildcards) < 0).Count();
        var rest = string.Join('/', segments.Skip(literal));

        // Only a remainder starting with ** matches a directory's files under it as it matched them anywhere.
        if (literal == segments.Length || !(rest == "**" || rest.StartsWith("**/", StringComparison.Ordinal)))
        {
            return null;
        }

        var prefix = literal == 0 ? "" : string.Join('/', segments.Take(literal)) + "/";
        var matcher = new Glob(glob);
        var matched = files.Where(matcher.IsMatch).ToHashSet(StringComparer.Ordinal);
        var groups = new SortedDictionary<string, (bool Directory, bool Dropped)>(StringComparer.Ordinal);
        foreach (var file in matched)
        {
            var below = file[prefix.Length..];
            var cut = below.IndexOf('/');
            var name = cut < 0 ? below : below[..cut];
            var (directory, dropped) = groups.GetValueOrDefault(name);
            groups[name] = (directory || cut >= 0, dropped || irrelevant.Contains(file));
        }

        if (!groups.Values.Any(g => g.Dropped) || groups.Values.All(g => g.Dropped) || groups.Keys.Any(n => n.AsSpan().IndexOfAny(Wildcards) >= 0))
        {
            return null;
        }

        string Of(string name, bool directory) =>
            directory ? $"{prefix}{name}/{rest}" : $"{prefix}{name}";

        // A name that is a file at the top and a directory too cannot be one glob; such a tree is left alone.
        if (groups.Any(g => g.Value.Directory && matched.Contains($"{prefix}{g.Key}")))
        {
            return null;
        }

        return ([.. groups.Where(g => !g.Value.Dropped).Select(g => Of(g.Key, g.Value.Directory))],
                [.. groups.Where(g => g.Value.Dropped).Select(g => Of(g.Key, g.Value.Directory))]);
    }
}
