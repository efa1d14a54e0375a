using System.Text;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(LineSplitterTests))]
public sealed class LineSplitterTests
{
    [Test]
    public async Task Chunks_that_cut_lines_anywhere_give_the_same_lines()
    {
        var text = "first line\r\nsecond\n\nfourth ünïcødé line\nlast";
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var chunk = 1; chunk <= bytes.Length; chunk++)
        {
            var lines = new List<string>();
            var splitter = new LineSplitter(lines.Add);
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                splitter.Write(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
            }

            splitter.Flush();
            await Assert.That(lines)
                .IsEquivalentTo((IEnumerable<string>)["first line", "second", "", "fourth ünïcødé line", "last"], CollectionOrdering.Matching);
        }
    }

    [Test]
    public async Task Incomplete_utf8_at_end_becomes_a_replacement_character()
    {
        var lines = new List<string>();
        var splitter = new LineSplitter(lines.Add);

        splitter.Write([(byte)'a', 0xE2, 0x82]);
        splitter.Flush();

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["a\uFFFD"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Flush_without_pending_text_emits_nothing()
    {
        var lines = new List<string>();
        var splitter = new LineSplitter(lines.Add);

        splitter.Write("done\n"u8);
        splitter.Flush();

        await Assert.That(lines).IsEquivalentTo((IEnumerable<string>)["done"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Memory_stays_bounded_for_a_huge_line()
    {
        var pieces = new List<int>();
        var splitter = new LineSplitter(line => pieces.Add(line.Length), maxLineChars: 64 * 1024);
        var chunk = new byte[10_000];
        Array.Fill(chunk, (byte)'z');

        for (var i = 0; i < 100; i++)
        {
            splitter.Write(chunk);
        }

        splitter.Flush();

        foreach (var length in pieces)
        {
            await Assert.That(length <= 64 * 1024).IsTrue();
        }
        await Assert.That(pieces.Sum()).IsEqualTo(1_000_000);
    }

    [Test]
    public async Task Masking_each_piece_masks_the_line_wherever_the_line_and_the_chunks_are_cut()
    {
        // The second mask overlaps the first's tail, so a cut has to step back over both.
        const string Secret = "s3cr3t!";
        var masker = new SecretMasker([Secret, "t!yz"]);
        for (var cap = Secret.Length; cap <= Secret.Length + 3; cap++)
        {
            for (var pad = 0; pad <= 2 * cap; pad++)
            {
                var line = new string('x', pad / 2) + new string('ü', pad - (pad / 2)) + Secret + "yz " + Secret;
                var bytes = Encoding.UTF8.GetBytes(line + "\n");
                for (var split = 0; split <= bytes.Length; split++)
                {
                    var pieces = new List<string>();
                    var splitter = new LineSplitter(pieces.Add, cap, masker);
                    splitter.Write(bytes.AsSpan(0, split));
                    splitter.Write(bytes.AsSpan(split));
                    splitter.Flush();

                    var shown = string.Concat(pieces.Select(masker.Redact));
                    await Assert.That(shown == masker.Redact(line))
                        .IsTrue()
                        .Because($"cap {cap}, pad {pad}, split {split}: {string.Join(" | ", pieces)}");
                    foreach (var piece in pieces)
                    {
                        await Assert.That(piece.Length).IsBetween(1, cap);
                    }
                }
            }
        }
    }

    [Test]
    public async Task Without_secrets_pieces_are_cut_at_the_cap_as_before()
    {
        var pieces = new List<string>();
        var splitter = new LineSplitter(pieces.Add, maxLineChars: 4);

        splitter.Write("abcdefghij\n"u8);
        splitter.Flush();

        await Assert.That(pieces).IsEquivalentTo((IEnumerable<string>)["abcd", "efgh", "ij"], CollectionOrdering.Matching);
    }
}
