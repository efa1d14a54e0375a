using System.Text;

namespace Harmont.Aot.Keys;

/// <summary>
/// A step's cache key (docs/cache-keys.md): SHA-256, lowercase hex, of the NUL-separated
/// <c>format-version ␀ project ␀ pipeline-slug ␀ step-key ␀ parent-key|"scratch" ␀ definition ␀ policy-resolution</c>.
/// The components are kept so a run can record them and <c>explain</c> can say which one changed.
/// </summary>
internal sealed record CacheKey(string Project, string Pipeline, string Step, string? Parent, string Definition, string Policy)
{
    public const string FormatVersion = "harmont-key-v1";

    // Computed, not stored: `with` copies stored values, and a changed component must change the key.
    public string Value => Hash(FormatVersion, Project, Pipeline, Step, Parent ?? "scratch", Definition, Policy);

    /// <summary>SHA-256 of the parts joined by NUL, each part followed by one; 64 lowercase hex digits.</summary>
    public static string Hash(params string[] parts)
    {
        using var hash = new FieldHash();
        foreach (var part in parts)
        {
            hash.Add(part);
        }

        return hash.FinishHex();
    }

    /// <summary>SHA-256 of <paramref name="text"/>'s UTF-8 bytes: 64 lowercase hex digits.</summary>
    public static string Sha256Hex(string text) => Convert.ToHexStringLower(KeySha256.HashData(Encoding.UTF8.GetBytes(text)));
}
