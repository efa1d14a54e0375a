using System.Text;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Turns one stream's UTF-8 bytes, arriving in arbitrary chunks, into lines.</summary>
/// <remarks>
/// A chunk may end mid-line or mid-character, so both the partial line and the decoder state
/// carry over to the next chunk. Memory stays bounded: a line longer than the cap is emitted
/// in pieces rather than buffered whole. A piece never ends inside a secret, so masking each
/// piece masks the line: the splitter holds the last few characters back until it can tell.
/// </remarks>
internal sealed class LineSplitter
{
    /// <summary>Longest line emitted in one piece, in chars.</summary>
    public const int DefaultMaxLineChars = 64 * 1024;

    private readonly Action<string> _onLine;
    private readonly int _maxLineChars;
    private readonly SecretMasker _masker;
    private readonly int _bufferChars;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly char[] _decoded = new char[4096];
    private char[] _line = new char[256];
    private int _lineLength;

    /// <summary>Creates a splitter that hands each line, without its terminator, to <paramref name="onLine"/>.</summary>
    /// <param name="onLine">Receives each line, or each piece of a line longer than <paramref name="maxLineChars"/>.</param>
    /// <param name="maxLineChars">Longest piece emitted.</param>
    /// <param name="masker">The secrets no piece may end inside; the caller still masks what it receives.</param>
    public LineSplitter(Action<string> onLine, int maxLineChars = DefaultMaxLineChars, SecretMasker? masker = null)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineChars, 2);
        _onLine = onLine;
        _maxLineChars = maxLineChars;
        _masker = masker ?? SecretMasker.None;

        // A piece is cut only once what follows the cut could no longer complete a secret that crosses it.
        _bufferChars = maxLineChars + _masker.HoldBack;
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
            if (_lineLength == _bufferChars)
            {
                EmitPiece();
            }

            var take = Math.Min(_bufferChars - _lineLength, chars.Length);
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
            Array.Resize(ref _line, Math.Min(_bufferChars, Math.Max(needed, _line.Length * 2)));
        }
    }

    private void EmitLine()
    {
        if (_lineLength > 0 && _line[_lineLength - 1] == '\r')
        {
            _lineLength--;
        }

        // The held-back tail can leave a line just past the cap; no more is coming, so cut it now.
        while (_lineLength > _maxLineChars)
        {
            EmitPiece();
        }

        var line = new string(_line, 0, _lineLength);
        _lineLength = 0;
        _onLine(line);
    }

    private void EmitPiece()
    {
        var cut = _masker.SafeCut(_line.AsSpan(0, _lineLength), _maxLineChars);

        // Never cut a surrogate pair in half: hold its first half back for the next piece.
        if (cut > 1 && char.IsHighSurrogate(_line[cut - 1]))
        {
            cut--;
        }

        var piece = new string(_line, 0, cut);
        _lineLength -= cut;
        Array.Copy(_line, cut, _line, 0, _lineLength);
        _onLine(piece);
    }
}
