using System.Buffers.Binary;
using System.Text;
using Docker.DotNet;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// An attached container's output, as the engine frames it without a TTY, comes out as lines per stream: the
/// library splits the frames by stream, and each stream's bytes, cut anywhere, are joined into lines here.
/// </summary>
[NotInParallel(nameof(AttachedOutputTests))]
public sealed class AttachedOutputTests
{
    private const byte Out = 1;
    private const byte Err = 2;

    [Test]
    public async Task Line_split_across_frames_is_joined()
    {
        var lines = await ReadAsync(Frame(Out, "hel"), Frame(Out, "lo\nwor"), Frame(Out, "ld\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:hello", "out:world"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Many_lines_in_one_frame_each_come_out()
    {
        var lines = await ReadAsync(Frame(Out, "a\nb\n\nc\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:a", "out:b", "out:", "out:c"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Stdout_and_stderr_partials_are_kept_apart()
    {
        var lines = await ReadAsync(Frame(Out, "out-a"), Frame(Err, "err-a"), Frame(Out, "-b\n"), Frame(Err, "-b\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:out-a-b", "err:err-a-b"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Trailing_partial_line_is_flushed_at_end_of_stream()
    {
        var lines = await ReadAsync(Frame(Out, "a\nno newline"), Frame(Err, "err tail"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:a", "out:no newline", "err:err tail"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Crlf_is_stripped_even_when_split_between_frames()
    {
        var lines = await ReadAsync(Frame(Out, "a\r\nb\r"), Frame(Out, "\nc\r\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:a", "out:b", "out:c"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Overlong_line_is_emitted_in_pieces()
    {
        var lines = await ReadAsync(maxLineChars: 10, Frame(Out, new string('x', 25) + "\nshort\n"));

        await Assert.That(lines)
            .IsEquivalentTo((IEnumerable<string>)["out:" + new string('x', 10), "out:" + new string('x', 10), "out:xxxxx", "out:short"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Line_of_exactly_the_cap_is_one_piece()
    {
        var lines = await ReadAsync(maxLineChars: 4, Frame(Out, "abcd\nef\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:abcd", "out:ef"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Multibyte_character_split_across_frames_decodes_whole()
    {
        var bytes = Encoding.UTF8.GetBytes("héllo→😀\n");
        var lines = await ReadAsync(Frame(Out, bytes[..2]), Frame(Out, bytes[2..9]), Frame(Out, bytes[9..12]), Frame(Out, bytes[12..]));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:héllo→😀"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Overlong_line_does_not_cut_a_surrogate_pair()
    {
        var lines = await ReadAsync(maxLineChars: 4, Frame(Out, "abc😀d\n"));

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:abc", "out:😀d"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Headers_and_payloads_arriving_a_byte_at_a_time_still_parse(CancellationToken cancellationToken)
    {
        var data = Concat(Frame(Out, "one\ntw"), Frame(Err, "e1\n"), Frame(Out, "o\n"));
        var lines = new List<string>();

        using var output = new MultiplexedStream(new TrickleStream(data), multiplexed: true);
        await AttachedOutput.ReadLinesAsync(output, Collect(lines), SecretMasker.None, cancellationToken);

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:one", "err:e1", "out:two"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Frame_larger_than_the_read_buffer_is_streamed_through()
    {
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"{i}\n"));
        var lines = await ReadAsync(Frame(Out, text));

        await Assert.That(lines).IsEquivalentTo(Enumerable.Range(0, 20_000).Select(i => $"out:{i}"), CollectionOrdering.Matching);
    }

    [Test]
    public async Task Stream_cut_mid_frame_keeps_what_arrived()
    {
        var whole = Frame(Out, "complete\npartial line that is cut");
        var lines = await ReadAsync(whole[..^7]);

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["out:complete", "out:partial line that"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Empty_stream_yields_no_lines()
    {
        await Assert.That(await ReadAsync()).IsEmpty();
    }

    private static async Task<List<string>> ReadAsync(params byte[][] frames) => await ReadAsync(LineSplitter.DefaultMaxLineChars, frames);

    private static async Task<List<string>> ReadAsync(int maxLineChars, params byte[][] frames)
    {
        var lines = new List<string>();
        using var output = new MultiplexedStream(new MemoryStream(Concat(frames)), multiplexed: true);
        await AttachedOutput.ReadLinesAsync(output, Collect(lines), SecretMasker.None, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None, maxLineChars);
        return lines;
    }

    private static Action<LogStream, string> Collect(List<string> lines) =>
        (stream, line) => lines.Add((stream == LogStream.Stdout ? "out:" : "err:") + line);

    private static byte[] Frame(byte stream, string text) => Frame(stream, Encoding.UTF8.GetBytes(text));

    private static byte[] Frame(byte stream, byte[] payload)
    {
        var frame = new byte[8 + payload.Length];
        frame[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Hands out one byte per read, as a slow socket might.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }
}
