namespace Harmont.Aot.Containment;

/// <summary>The one rule for a path read from a hostile place (a manifest, an entry, a bundle, a step's output).</summary>
internal static class RelativePath
{
    /// <summary>'/'-separated, not absolute, no empty, '.' or '..' component, no NUL: a path that can only name something beneath its root.</summary>
    public static bool IsPlain(string relative)
    {
        if (string.IsNullOrEmpty(relative) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var range in relative.AsSpan().Split('/'))
        {
            var part = relative.AsSpan(range);
            if (part.IsEmpty || part is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The directory part of a relative path: "" for a name at the root.</summary>
    public static string ParentOf(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }
}
