using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Harmont.Aot.Keys;

/// <summary>
/// SHA-256 of text fields, each as UTF-8 followed by one NUL: the shape of every preimage in docs/cache-keys.md.
/// Fields are gathered in a 64 KiB buffer. A preimage that fits is hashed in managed code at the end
/// (<see cref="KeySha256"/>); a longer one is handed to the platform's hash a chunk at a time, so a preimage of
/// ten thousand paths costs a handful of native calls, not twenty thousand.
/// </summary>
internal sealed class FieldHash : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private IncrementalHash? _sha;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _length;

    /// <summary>Appends <paramref name="field"/> and its terminating NUL.</summary>
    public FieldHash Add(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var most = Encoding.UTF8.GetMaxByteCount(field.Length) + 1;
        if (_length + most > _buffer.Length)
        {
            Flush();
            if (most > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(most);
            }
        }

        _length += Encoding.UTF8.GetBytes(field, _buffer.AsSpan(_length));
        _buffer[_length++] = 0;
        return this;
    }

    /// <summary>The hash of every field added; the instance is then empty again.</summary>
    public byte[] Finish()
    {
        if (_sha is null)
        {
            var digest = new byte[32];
            KeySha256.Managed(_buffer.AsSpan(0, _length), digest);
            _length = 0;
            return digest;
        }

        Flush();
        return _sha.GetHashAndReset();
    }

    /// <summary><see cref="Finish"/> as 64 lowercase hex digits.</summary>
    public string FinishHex() => Convert.ToHexStringLower(Finish());

    public void Dispose()
    {
        _sha?.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Flush()
    {
        if (_length > 0)
        {
            _sha ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _sha.AppendData(_buffer, 0, _length);
            _length = 0;
        }
    }
}
