// This file is compiled into the runtime and, linked, into the netstandard2.0 generator, so the
// compile-time and run-time `definition` hashes come from one implementation.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Harmont.Aot.Keys;

/// <summary>
/// The canonical form of a step definition and its hash: the <c>definition</c> of docs/cache-keys.md.
/// </summary>
/// <remarks>
/// <para>The preimage is UTF-8, fields separated by NUL (␀), each field introduced by its name:</para>
/// <code>
/// "harmont-definition-v1" ␀
/// "cmd"     ␀ command ␀
/// "image"   ␀ image ␀                       (root steps: the step's image, else the pipeline's default; children and no image: empty)
/// "env"     ␀ count ␀ (name ␀ value ␀)*     (the effective, non-secret env, sorted by name, ordinal)
/// "secrets" ␀ count ␀ (name ␀)*             (secret names only, sorted, ordinal; values never)
/// "cwd"     ␀ cwd ␀                         (relative to the workspace root; empty for the root)
/// "runner"  ␀ runner ␀                      (the step's runner, or the pipeline's when it inherits: auto | docker | host)
/// "network" ␀ network ␀                     (only when the step sets one: bridge | none | host; absent for the default,
///                                            so a step that never set it keeps the key it always had)
/// </code>
/// <para>count is a decimal number. The hash is SHA-256 of the preimage, written as 64 lowercase hex digits.</para>
/// <para>Env entries whose name is also a secret are left out: a secret's value never enters a preimage.</para>
/// </remarks>
internal static class DefinitionPreimage
{
    public const string FormatVersion = "harmont-definition-v1";

    public static string Hash(
        string command,
        string? image,
        IEnumerable<KeyValuePair<string, string>> env,
        IEnumerable<string> secrets,
        string? cwd,
        string runner,
        string? network = null)
    {
        var preimage = Build(command, image, env, secrets, cwd, runner, network);
#if NETSTANDARD2_0
        byte[] digest;
        using (var sha = SHA256.Create())
        {
            digest = sha.ComputeHash(preimage);
        }

        var hex = new StringBuilder(digest.Length * 2);
        foreach (var b in digest)
        {
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return hex.ToString();
#else
        return Convert.ToHexStringLower(KeySha256.HashData(preimage));
#endif
    }

    public static byte[] Build(
        string command,
        string? image,
        IEnumerable<KeyValuePair<string, string>> env,
        IEnumerable<string> secrets,
        string? cwd,
        string runner,
        string? network = null)
    {
        var secretNames = secrets.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal).ToList();
        var plainEnv = env
            .Where(e => !secretNames.Contains(e.Key, StringComparer.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();

        var text = new StringBuilder();
        Field(text, FormatVersion);
        Field(text, "cmd");
        Field(text, command);
        Field(text, "image");
        Field(text, image ?? "");
        Field(text, "env");
        Field(text, plainEnv.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var entry in plainEnv)
        {
            Field(text, entry.Key);
            Field(text, entry.Value);
        }

        Field(text, "secrets");
        Field(text, secretNames.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var name in secretNames)
        {
            Field(text, name);
        }

        Field(text, "cwd");
        Field(text, cwd ?? "");
        Field(text, "runner");
        Field(text, runner);
        if (network is not null)
        {
            Field(text, "network");
            Field(text, network);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static void Field(StringBuilder text, string value) => text.Append(value).Append('\0');
}
