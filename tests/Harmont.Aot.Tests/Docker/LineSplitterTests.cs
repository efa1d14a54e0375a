using System.Text;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

public sealed class LineSplitterTests
{
    [Fact]
    public void Chunks_that_cut_lines_anywhere_give_the_same_lines()
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
            Assert.Equal(["first line", "second", "", "fourth ünïcødé line", "last"], lines);
        }
    }

    [Fact]
    public void Incomplete_utf8_at_end_becomes_a_replacement_character()
    {
        var lines = new List<string>();
        var splitter = new LineSplitter(lines.Add);

        splitter.Write([(byte)'a', 0xE2, 0x82]);
        splitter.Flush();

        Assert.Equal(["a\uFFFD"], lines);
    }

    [Fact]
    public void Flush_without_pending_text_emits_nothing()
    {
        var lines = new List<string>();
        var splitter = new LineSplitter(lines.Add);

        splitter.Write("done\n"u8);
        splitter.Flush();

        Assert.Equal(["done"], lines);
    }

    [Fact]
    public void Memory_stays_bounded_for_a_huge_line()
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

        Assert.All(pieces, length => Assert.True(length <= 64 * 1024));
        Assert.Equal(1_000_000, pieces.Sum());
    }

    [Fact]
    public void Masking_each_piece_masks_the_line_wherever_the_line_and_the_chunks_are_cut()
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
                    Assert.True(shown == masker.Redact(line), $"cap {cap}, pad {pad}, split {split}: {string.Join(" | ", pieces)}");
                    Assert.All(pieces, piece => Assert.InRange(piece.Length, 1, cap));
                }
            }
        }
    }

    [Fact]
    public void Without_secrets_pieces_are_cut_at_the_cap_as_before()
    {
        var pieces = new List<string>();
        var splitter = new LineSplitter(pieces.Add, maxLineChars: 4);

        splitter.Write("abcdefghij\n"u8);
        splitter.Flush();

        Assert.Equal(["abcd", "efgh", "ij"], pieces);
    }
}
