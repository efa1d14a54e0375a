using System.Text;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Source manifests another machine or a bundle could carry that no run can use: every way the format
/// (<c>harmont-sources 2</c>, then <c>mode hash path NUL</c> records) can be wrong.
/// </summary>
internal static class ForgedSources
{
    private const string Header = "harmont-sources 2\n";
    private const string Hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <summary>Each forgery's name, for <c>[Arguments]</c> and failure messages.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "climbs-out", "absolute", "nul-in-name", "duplicate", "empty-component", "dot-component", "empty-name",
        "mode-not-octal", "mode-too-long", "hash-uppercase", "hash-short", "no-terminator", "old-header", "not-a-manifest",
    ];

    /// <summary>The forgery's bytes: a valid file first where that makes the bad record the only fault.</summary>
    public static byte[] Bytes(string name) => Encoding.UTF8.GetBytes(name switch
    {
        "climbs-out" => Valid("../../x"),
        "absolute" => Valid("/etc/passwd"),
        "nul-in-name" => Valid("a\0b"),
        "duplicate" => Valid("a.txt"),
        "empty-component" => Valid("src//a.txt"),
        "dot-component" => Valid("./a.txt"),
        "empty-name" => Valid(""),
        "mode-not-octal" => Header + $"100694 {Hash} a.txt\0",
        "mode-too-long" => Header + $"7100644 {Hash} a.txt\0",
        "hash-uppercase" => Header + $"100644 {Hash.ToUpperInvariant()} a.txt\0",
        "hash-short" => Header + "100644 abc a.txt\0",
        "no-terminator" => Header + $"100644 {Hash} a.txt",
        "old-header" => $"harmont-sources 1\n100644 {Hash} a.txt\0",
        "not-a-manifest" => "input.txt\n",
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    });

    // One good record, then the forged path.
    private static string Valid(string path) => $"{Header}100644 {Hash} a.txt\0100644 {Hash} {path}\0";
}
