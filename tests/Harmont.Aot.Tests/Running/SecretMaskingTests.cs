using Harmont.Aot.Events;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>What a step prints of its secret, however the value or the output is cut into lines.</summary>
[NotInParallel(nameof(SecretMaskingTests))]
public sealed class SecretMaskingTests : IDisposable
{
    private const string ChunkSecret = "hm-Chunk-Secret-0123456789";
    private readonly RunHarness _harness = new();

    public SecretMaskingTests() => _harness.Env["HM_TEST_CHUNK_SECRET"] = ChunkSecret;

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Every_line_of_a_multi_line_secret_is_masked()
    {
        var run = await RunMultiLineAsync("first-line-of-the-secret\nsecond-line-of-the-secret");

        await Assert.That(Logs(run, error: false)).IsEquivalentTo((IEnumerable<string>)["***", "***"], CollectionOrdering.Matching);
        await Assert.That(Logs(run, error: true)).IsEquivalentTo((IEnumerable<string>)["***", "***"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("line-of-the-secret", StringComparison.Ordinal);
    }

    [Test]
    public async Task Secret_lines_ending_in_a_carriage_return_are_masked_without_it()
    {
        var run = await RunMultiLineAsync("crlf-line-one\r\ncrlf-line-two\r");

        await Assert.That(Logs(run, error: false)).IsEquivalentTo((IEnumerable<string>)["***", "***"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("crlf-line", StringComparison.Ordinal);
    }

    [Test]
    public async Task A_single_line_secret_with_a_trailing_carriage_return_is_masked()
    {
        var run = await RunMultiLineAsync("windows-pasted-token\r");

        await Assert.That(Logs(run, error: false)).IsEquivalentTo((IEnumerable<string>)["***"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_secret_with_a_carriage_return_inside_is_masked_on_the_host()
    {
        // A lone CR does not end a line: the host reads output as a container's is read.
        var run = await RunMultiLineAsync("part-one\rpart-two");

        await Assert.That(Logs(run, error: false)).IsEquivalentTo((IEnumerable<string>)["***"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("part-", StringComparison.Ordinal);
    }

    [Test]
    public async Task Lines_of_a_multi_line_secret_shorter_than_three_characters_are_not_masked_alone()
    {
        // Masking "{" or "}" everywhere would wreck every log; the lines that carry the value are masked.
        var run = await RunMultiLineAsync("{\n  \"key\": \"json-secret-value\"\n}");

        await Assert.That(Logs(run, error: false)).IsEquivalentTo((IEnumerable<string>)["{", "  ***", "}"], CollectionOrdering.Matching);
        await Assert.That(run.Output).DoesNotContain("json-secret-value", StringComparison.Ordinal);
    }

    [Test]
    public async Task Secret_straddling_the_line_piece_cut_is_masked_at_every_offset_on_the_host()
    {
        var run = await _harness.RunAsync(StraddlingSecretHost.Definition);

        await AssertStraddlingMasked(run);
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Secret_straddling_the_line_piece_cut_is_masked_at_every_offset_in_docker()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(StraddlingSecretDocker.Definition);

        await AssertStraddlingMasked(run);
    }

    private static async Task AssertStraddlingMasked(RunOutcome run)
    {
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        var pieces = Logs(run, error: false);

        // Pieces of one line follow each other, so their concatenation is the lines' concatenation.
        var expected = string.Concat(Enumerable.Range(StraddlingSecret.FirstOffset, StraddlingSecret.LastOffset - StraddlingSecret.FirstOffset + 1)
            .Select(n => new string('x', n) + "***"));
        var actual = string.Concat(pieces);
        await Assert.That(expected == actual).IsTrue().Because($"unmasked text around: {Unmasked(actual)}");
        await Assert.That(pieces)
            .DoesNotContain(piece => piece.Contains("Chunk-Secret", StringComparison.Ordinal) || piece.Contains("0123456789", StringComparison.Ordinal));
    }

    private static string Unmasked(string text)
    {
        var at = text.IndexOf("hm-", StringComparison.Ordinal);
        return at < 0 ? "(none: the pieces differ otherwise)" : text.Substring(at, Math.Min(40, text.Length - at));
    }

    private static List<string> Logs(RunOutcome run, bool error) =>
        [.. run.Events.OfType<StepLog>().Where(e => e.IsError == error).Select(e => e.Line)];

    private async Task<RunOutcome> RunMultiLineAsync(string secret)
    {
        _harness.Env["HM_TEST_MULTI_SECRET"] = secret;
        var run = await _harness.RunAsync(MultiLineSecret.Definition);
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        return run;
    }
}
