using System.Text;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Turns one stream's UTF-8 bytes, arriving in arbitrary chunks, into lines.</summary>
/// <remarks>
/// A chunk may end mid-line or mid-character, so both the partial line and the decoder state
/// carry over to the next chunk. Memory stays bounded: a line longer than the cap is emitted
/// in pieces rather than buffered whole.
/// </remarks>
internal sealed class LineSplitter
{
    /// <summary>Longest line emitted in one piece, in chars.</summary>
    public const int DefaultMaxLineChars = 64 * 1024;

    private readonly Action<string> _onLine;
    private readonly int _maxLineChars;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly char[] _decoded = new char[4096];
    private char[] _line = new char[256];
    private int _lineLength;

    /// <summary>Creates a splitter that hands each line, without its terminator, to <paramref name="onLine"/>.</summary>
    public LineSplitter(Action<string> onLine, int maxLineChars = DefaultMaxLineChars)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineChars, 2);
        _onLine = onLine;
        _maxLineChars = maxLineChars;
    }

    /// <summary>Feeds the next chunk of bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            _decoder.Convert(bytes, _decoded, flush: false, out var bytesUsed, out var charsUsed, out _);
            Feed(_decoded.AsSpan(0, charsUsed));
            bytes = bytes[bytesUsed..];
        }
    }

    /// <summary>Ends the stream: emits whatever partial line is left.</summary>
    public void Flush()
    {
        // An incomplete trailing UTF-8 sequence decodes to U+FFFD rather than vanishing.
        _decoder.Convert(ReadOnlySpan<byte>.Empty, _decoded, flush: true, out _, out var charsUsed, out _);
        Feed(_decoded.AsSpan(0, charsUsed));
        if (_lineLength > 0)
        {
            EmitLine();
        }
    }

    private void Feed(ReadOnlySpan<char> chars)
    {
        while (!chars.IsEmpty)
        {
            var newline = chars.IndexOf('\n');
            if (newline < 0)
            {
                Append(chars);
                return;
            }

            Append(chars[..newline]);
            EmitLine();
            chars = chars[(newline + 1)..];
        }
    }

    private void Append(ReadOnlySpan<char> chars)
    {
        while (!chars.IsEmpty)
        {
            if (_lineLength == _maxLineChars)
            {
                EmitPiece();
            }

            var take = Math.Min(_maxLineChars - _lineLength, chars.Length);
            EnsureCapacity(_lineLength + take);
            chars[..take].CopyTo(_line.AsSpan(_lineLength));
            _lineLength += take;
            chars = chars[take..];
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed > _line.Length)
        {
            Array.Resize(ref _line, Math.Min(_maxLineChars, Math.Max(needed, _line.Length * 2)));
        }
    }

    private void EmitLine()
    {
        var length = _lineLength;
        if (length > 0 && _line[length - 1] == '\r')
        {
            length--;
        }

        _lineLength = 0;
        _onLine(new string(_line, 0, length));
    }

    private void EmitPiece()
    {
        // Never cut a surrogate pair in half: hold its first half back for the next piece.
        var length = char.IsHighSurrogate(_line[_lineLength - 1]) ? _lineLength - 1 : _lineLength;
        var piece = new string(_line, 0, length);
        var kept = _lineLength - length;
        if (kept > 0)
        {
            _line[0] = _line[length];
        }

        _lineLength = kept;
        _onLine(piece);
    }
}
