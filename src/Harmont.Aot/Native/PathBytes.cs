using System.Text;
using System.Text.Unicode;

namespace Harmont.Aot.Native;

/// <summary>
/// File names as the kernel has them: bytes, not text. A name that is valid UTF-8 decodes as usual; each
/// byte the UTF-8 decoder rejects becomes the lone surrogate U+DC80+byte (Python's "surrogateescape"),
/// which no valid name can contain, so every name a step can make round-trips through a .NET string.
/// </summary>
internal static class PathBytes
{
    private const char EscapeBase = '\uDC00';

    /// <summary>The name's bytes; a string that did not come from <see cref="Decode"/> and holds other lone surrogates or NUL is refused.</summary>
    public static byte[] Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"a file name cannot contain NUL: '{name.Replace('\0', '?')}'", nameof(name));
        }

        if (!HasSurrogate(name))
        {
            return Encoding.UTF8.GetBytes(name);
        }

        var bytes = new List<byte>(name.Length + 8);
        Span<byte> scratch = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is >= '\uDC80' and <= '\uDCFF')
            {
                bytes.Add((byte)(c - EscapeBase));
                continue;
            }

            if (!Rune.TryGetRuneAt(name, i, out var rune))
            {
                throw new ArgumentException($"file name holds an unpaired surrogate U+{(int)c:X4} that no file system name decodes to", nameof(name));
            }

            var length = rune.EncodeToUtf8(scratch);
            for (var b = 0; b < length; b++)
            {
                bytes.Add(scratch[b]);
            }

            i += rune.Utf16SequenceLength - 1;
        }

        return [.. bytes];
    }

    /// <summary><see cref="Encode"/> with a terminating NUL, for system calls.</summary>
    public static byte[] EncodeTerminated(string name)
    {
        var bytes = Encode(name);
        Array.Resize(ref bytes, bytes.Length + 1);
        return bytes;
    }

    /// <summary>The string for a name's bytes; lossless, see the type's summary.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            // Valid UTF-8 never encodes a surrogate, so an escape can only come from a rejected byte.
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                text.Append(rune.ToString());
                bytes = bytes[consumed..];
            }
            else
            {
                text.Append((char)(EscapeBase + bytes[0]));
                bytes = bytes[1..];
            }
        }

        return text.ToString();
    }

    /// <summary>Whether the name is valid UTF-8 as stored (no escaped byte), so text formats can carry it as is.</summary>
    public static bool IsPlainText(string name) => !HasSurrogate(name) || !name.Any(c => c is >= '\uDC80' and <= '\uDCFF');

    private static bool HasSurrogate(string name) => name.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
}
