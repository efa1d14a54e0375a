namespace Harmont.Aot.Cache;

/// <summary>
/// A read-only stream that hands out <paramref name="head"/> and then the rest of <paramref name="rest"/>:
/// the bytes a bundle's compression was told by, read back for its decoder from a pipe that cannot seek.
/// Disposing it disposes <paramref name="rest"/>.
/// </summary>
internal sealed class ReplayStream(byte[] head, Stream rest) : Stream
{
    private int _served;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => TryReplay(buffer, out var replayed) ? replayed : rest.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        TryReplay(buffer.Span, out var replayed) ? ValueTask.FromResult(replayed) : rest.ReadAsync(buffer, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rest.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool TryReplay(Span<byte> buffer, out int count)
    {
        count = Math.Min(buffer.Length, head.Length - _served);
        head.AsSpan(_served, count).CopyTo(buffer);
        _served += count;
        return count > 0;
    }
}
