using System.Buffers;
using System.Buffers.Binary;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Demultiplexes the engine's non-TTY log stream into stdout and stderr lines.</summary>
/// <remarks>
/// Each frame is an 8-byte header — stream byte, three zero bytes, big-endian uint32 size — then
/// the payload. Frames need not align with lines, so each stream keeps its own <see cref="LineSplitter"/>.
/// The payload is read in fixed-size chunks, so a huge frame never lands in memory whole.
/// </remarks>
internal sealed class LogFrameReader
{
    private const int HeaderSize = 8;
    private const int ChunkSize = 16 * 1024;

    private readonly LineSplitter _stdout;
    private readonly LineSplitter _stderr;

    /// <summary>Creates a reader that hands each line, tagged with its stream, to <paramref name="onLine"/>.</summary>
    public LogFrameReader(Action<LogStream, string> onLine, int maxLineChars = LineSplitter.DefaultMaxLineChars, SecretMasker? masker = null)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        _stdout = new LineSplitter(line => onLine(LogStream.Stdout, line), maxLineChars, masker);
        _stderr = new LineSplitter(line => onLine(LogStream.Stderr, line), maxLineChars, masker);
    }

    /// <summary>Reads frames until the stream ends, then flushes both streams' partial lines.</summary>
    public async Task ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                var got = await ReadAtLeastAsync(stream, buffer.AsMemory(0, HeaderSize), cancellationToken);
                if (got < HeaderSize)
                {
                    // A clean end lands on a frame boundary. A torn header is noise, but a few
                    // bytes that cannot be a header are the tail of a short raw (TTY) stream.
                    if (got > 0 && !IsHeader(buffer.AsSpan(0, got)))
                    {
                        _stdout.Write(buffer.AsSpan(0, got));
                    }

                    break;
                }

                if (!IsHeader(buffer.AsSpan(0, HeaderSize)))
                {
                    // The container has a TTY after all, so the stream is raw stdout with no framing.
                    _stdout.Write(buffer.AsSpan(0, HeaderSize));
                    await CopyRawAsync(stream, buffer, cancellationToken);
                    break;
                }

                var target = buffer[0] == 2 ? _stderr : _stdout;
                var remaining = (long)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4, 4));
                while (remaining > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(remaining, buffer.Length)), cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    target.Write(buffer.AsSpan(0, read));
                    remaining -= read;
                }

                if (remaining > 0)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _stdout.Flush();
        _stderr.Flush();
    }

    // Stream ids are 0 (stdin), 1 (stdout), 2 (stderr) and, on attach, 3 (system error).
    private static bool IsHeader(ReadOnlySpan<byte> header) =>
        header[0] <= 3 && !header[1..Math.Min(header.Length, 4)].ContainsAnyExcept((byte)0);

    private static async ValueTask<int> ReadAtLeastAsync(Stream stream, Memory<byte> target, CancellationToken cancellationToken) =>
        await stream.ReadAtLeastAsync(target, target.Length, throwOnEndOfStream: false, cancellationToken);

    private async Task CopyRawAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            _stdout.Write(buffer.AsSpan(0, read));
        }
    }
}
