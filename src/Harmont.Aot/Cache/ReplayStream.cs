namespace Harmont.Aot.Cache;

/// <summary>
/// A read-only stream that hands out <paramref name="head"/> and then the rest of <paramref name="rest"/>:
/// the bytes a bundle's compression was told by, read back for its decoder from a pipe that cannot seek.
/// Disposing it disposes <paramref name="rest"/>.
/// </summary>
internal sealed class ReplayStream(byte[] head, Stream rest) : ReadOnlyPipe(rest)
{
    private int _served;

    public override int Read(Span<byte> buffer) => TryReplay(buffer, out var replayed) ? replayed : Inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        TryReplay(buffer.Span, out var replayed) ? ValueTask.FromResult(replayed) : Inner.ReadAsync(buffer, cancellationToken);

    private bool TryReplay(Span<byte> buffer, out int count)
    {
        count = Math.Min(buffer.Length, head.Length - _served);
        head.AsSpan(_served, count).CopyTo(buffer);
        _served += count;
        return count > 0;
    }
}
