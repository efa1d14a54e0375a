using System.Formats.Tar;

namespace Harmont.Aot.Cache;

/// <summary>
/// The decompressed tar on its way to <see cref="TarReader"/>, checking each header before
/// the reader sees it: the reader allocates a metadata block (PAX <c>x</c>/<c>g</c>, GNU <c>L</c>/<c>K</c>) as
/// large as its header claims, up to 2 GiB, which a zstd bomb expands from a few kilobytes. The caller says
/// where each member's data ends (<see cref="MemberRead"/>), so no tar parsing is repeated here.
/// </summary>
internal sealed class TarMetadataGuard(Stream inner) : ReadOnlyPipe(inner)
{
    /// <summary>The largest metadata block read: every name and attribute a bundle carries fits in a few KiB.</summary>
    public const int MaxMetadataBytes = 1 << 20;

    private const int Block = 512;
    private const int SizeField = 124;
    private const int TypeField = 156;
    private readonly byte[] _header = new byte[Block];
    private int _pending;
    private int _pendingEnd;
    private long _position;
    private long _nextHeader;
    private bool _afterExtended;

    /// <summary>Says the reader has just returned <paramref name="member"/>, whose data (if any) comes next.</summary>
    public void MemberRead(TarEntry member)
    {
        ArgumentNullException.ThrowIfNull(member);

        // The reader stops at the start of a member's data; the next header follows it, padded to a block.
        // A member without a data stream (a PAX global header, read whole) has none left to pass.
        var length = member.DataStream is null ? 0 : member.Length;
        _nextHeader = _position + ((length + Block - 1) / Block * Block);
        _afterExtended = false;
    }

    public override int Read(Span<byte> buffer)
    {
        if (AtHeader)
        {
            Inspect(Inner.ReadAtLeast(_header, Block, throwOnEndOfStream: false));
        }

        return Serve(buffer, out var served) ? served : Passed(Inner.Read(buffer[..Limit(buffer.Length)]));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (AtHeader)
        {
            Inspect(await Inner.ReadAtLeastAsync(_header, Block, throwOnEndOfStream: false, cancellationToken));
        }

        return Serve(buffer.Span, out var served) ? served : Passed(await Inner.ReadAsync(buffer[..Limit(buffer.Length)], cancellationToken));
    }

    private bool AtHeader => _pending == _pendingEnd && _position == _nextHeader;

    // A read never runs past the next header, so the header arrives whole in its own read.
    private int Limit(int wanted) => _nextHeader > _position ? (int)Math.Min(wanted, _nextHeader - _position) : wanted;

    private int Passed(int read)
    {
        _position += read;
        return read;
    }

    private bool Serve(Span<byte> buffer, out int served)
    {
        served = Math.Min(buffer.Length, _pendingEnd - _pending);
        _header.AsSpan(_pending, served).CopyTo(buffer);
        _pending += served;
        return served > 0;
    }

    private void Inspect(int length)
    {
        (_pending, _pendingEnd) = (0, length);
        _position += length;
        var type = length == Block ? (char)_header[TypeField] : '\0';
        if (type is not ('x' or 'g' or 'L' or 'K'))
        {
            // A member, the end of the archive, or a cut-short header the reader refuses: its data is the caller's to place.
            _nextHeader = -1;
            _afterExtended = false;
            return;
        }

        // A PAX header may rewrite the size of what follows, so nothing but a member may follow one.
        if (_afterExtended)
        {
            throw new InvalidDataException($"a PAX extended header is followed by a '{type}' header, where a member must follow");
        }

        var size = Size(_header.AsSpan(SizeField, 12))
            ?? throw new InvalidDataException($"a '{type}' header's size field is not octal digits");
        if (size > MaxMetadataBytes)
        {
            throw new InvalidDataException($"a '{type}' header claims a {size}-byte metadata block, where names and attributes need at most {MaxMetadataBytes}");
        }

        _afterExtended = type == 'x';
        _nextHeader = _position + ((size + Block - 1) / Block * Block);
    }

    // Octal text; null for anything else, GNU's base-256 included, which only sizes past 8 GiB need.
    private static long? Size(ReadOnlySpan<byte> field)
    {
        long value = 0;
        foreach (var digit in field.TrimEnd(" \0"u8).TrimStart(" "u8))
        {
            if (digit is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3))
            {
                return null;
            }

            value = (value << 3) + (digit - '0');
        }

        return value;
    }
}
