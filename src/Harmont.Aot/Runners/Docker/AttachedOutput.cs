using System.Buffers;
using Docker.DotNet;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Reads an attached container's output, which the library hands out in chunks by stream, as lines.</summary>
/// <remarks>
/// Chunks need not align with lines or characters, so each stream keeps its own <see cref="LineSplitter"/>,
/// and memory stays bounded however long a line is.
/// </remarks>
internal static class AttachedOutput
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>Hands over each line until the container's output closes, then flushes both streams' partial lines.</summary>
    /// <param name="output">The attachment, made before the container started.</param>
    /// <param name="onLine">Receives each line (or piece of an overlong one) with its stream.</param>
    /// <param name="masker">The secrets no piece may end inside.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <param name="maxLineChars">Longest piece handed over (see <see cref="LineSplitter"/>).</param>
    public static async Task ReadLinesAsync(
        MultiplexedStream output, Action<LogStream, string> onLine, SecretMasker masker, CancellationToken cancellationToken, int maxLineChars = LineSplitter.DefaultMaxLineChars)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(onLine);
        var stdout = new LineSplitter(line => onLine(LogStream.Stdout, line), maxLineChars, masker);
        var stderr = new LineSplitter(line => onLine(LogStream.Stderr, line), maxLineChars, masker);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                var read = await output.ReadOutputAsync(buffer, 0, ChunkSize, cancellationToken);
                if (read.EOF)
                {
                    break;
                }

                (read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout).Write(buffer.AsSpan(0, read.Count));
            }
        }
        catch (EndOfStreamException)
        {
            // Cut inside a frame: the connection went, and what arrived before it is still the step's output.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        stdout.Flush();
        stderr.Flush();
    }
}
