using System.Text;
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
}
