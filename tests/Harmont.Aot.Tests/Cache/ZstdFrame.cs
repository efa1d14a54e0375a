using System.Text;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Writes one zstd frame by hand (RFC 8878), block by block: stored bytes, and runs of one byte as RLE blocks of
/// four bytes per 128 KiB, so a bundle of a few hundred KiB can unpack to gigabytes (a zstd bomb) in no time.
/// </summary>
internal sealed class ZstdFrame
{
    private const int MaxBlock = 128 * 1024;
    private readonly MemoryStream _blocks = new();
    private readonly byte _windowDescriptor;
    private int _lastHeader;

    /// <param name="windowLog">The window the frame asks its reader for, 2^windowLog bytes (at least 2^17 for full blocks).</param>
    public ZstdFrame(int windowLog = 17) => _windowDescriptor = (byte)((windowLog - 10) << 3);

    /// <summary>Bytes stored as they are.</summary>
    public ZstdFrame Raw(ReadOnlySpan<byte> bytes)
    {
        for (var offset = 0; offset < bytes.Length; offset += MaxBlock)
        {
            var chunk = bytes.Slice(offset, Math.Min(MaxBlock, bytes.Length - offset));
            BlockHeader(type: 0, chunk.Length);
            _blocks.Write(chunk);
        }

        return this;
    }

    /// <summary><paramref name="count"/> copies of <paramref name="value"/>.</summary>
    public ZstdFrame Run(long count, byte value = 0)
    {
        for (var left = count; left > 0; left -= MaxBlock)
        {
            BlockHeader(type: 1, (int)Math.Min(MaxBlock, left));
            _blocks.WriteByte(value);
        }

        return this;
    }

    /// <summary>The frame: magic, a header without content size or checksum, the blocks, the last one marked.</summary>
    public byte[] ToArray()
    {
        if (_blocks.Length == 0)
        {
            Raw([]);
        }

        var blocks = _blocks.ToArray();
        blocks[_lastHeader] |= 1;
        return [0x28, 0xb5, 0x2f, 0xfd, 0x00, _windowDescriptor, .. blocks];
    }

    /// <summary>A 512-byte ustar header of <paramref name="type"/> claiming <paramref name="size"/> bytes of data.</summary>
    public static byte[] TarHeader(char type, string name, long size)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0" + "0000000\0" + "0000000\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0" + "00000000000\0").CopyTo(header, 124);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        HostileBundle.FixChecksum(header, 0);
        return header;
    }

    private void BlockHeader(int type, int size)
    {
        _lastHeader = (int)_blocks.Length;
        var value = (size << 3) | (type << 1);
        _blocks.Write([(byte)value, (byte)(value >> 8), (byte)(value >> 16)]);
    }
}
