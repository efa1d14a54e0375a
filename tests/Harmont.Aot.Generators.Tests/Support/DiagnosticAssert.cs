using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Tests.Support;

/// <summary>Asserts the generator's diagnostics by ID, severity and exact span, against <c>[|...|]</c> markup.</summary>
public static class DiagnosticAssert
{
    /// <summary>Expected diagnostics are listed in the order of their marked spans, file by file.</summary>
    public static async Task<GeneratorRun> Reports(string[] markedSources, params (string Id, DiagnosticSeverity Severity)[] expected)
    {
        var markups = markedSources.Select(Markup.Parse).ToArray();
        var run = GeneratorHarness.Run([.. markups.Select(m => m.Source)]);
        var expectedSpans = markups.SelectMany((m, file) => m.Spans.Select(span => (File: file, Span: span))).ToArray();
        await Assert.That(expectedSpans.Length == expected.Length)
            .IsTrue()
            .Because($"Test is malformed: {expectedSpans.Length} marked spans for {expected.Length} expected diagnostics.");

        var actual = run.Diagnostics;
        await Assert.That(actual.Count == expected.Length)
            .IsTrue()
            .Because($"Expected {expected.Length} diagnostics, got {actual.Count}:\n" + string.Join("\n", actual));

        for (var i = 0; i < expected.Length; i++)
        {
            var diagnostic = actual[i];
            await Assert.That(diagnostic.Id).IsEqualTo(expected[i].Id);
            await Assert.That(diagnostic.Severity).IsEqualTo(expected[i].Severity);
            await Assert.That(diagnostic.Location.GetLineSpan().Path).IsEqualTo($"/src/File{expectedSpans[i].File}.cs");

            var source = markups[expectedSpans[i].File].Source;
            var expectedText = source[expectedSpans[i].Span.Start..expectedSpans[i].Span.End];
            var actualText = diagnostic.Location.SourceSpan.End <= source.Length
                ? source[diagnostic.Location.SourceSpan.Start..diagnostic.Location.SourceSpan.End]
                : "<out of range>";
            await Assert.That(expectedSpans[i].Span == diagnostic.Location.SourceSpan)
                .IsTrue()
                .Because($"{diagnostic.Id} at {diagnostic.Location.SourceSpan} \"{actualText}\", expected {expectedSpans[i].Span} \"{expectedText}\"");
        }

        return run;
    }

    public static async Task<GeneratorRun> Reports(string markedSource, params (string Id, DiagnosticSeverity Severity)[] expected) =>
        await Reports([markedSource], expected);
}
