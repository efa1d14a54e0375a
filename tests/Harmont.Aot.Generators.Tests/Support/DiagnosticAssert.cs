using Microsoft.CodeAnalysis;
using Xunit;

namespace Harmont.Aot.Generators.Tests.Support;

/// <summary>Asserts the generator's diagnostics by ID, severity and exact span, against <c>[|...|]</c> markup.</summary>
public static class DiagnosticAssert
{
    /// <summary>Expected diagnostics are listed in the order of their marked spans, file by file.</summary>
    public static GeneratorRun Reports(string[] markedSources, params (string Id, DiagnosticSeverity Severity)[] expected)
    {
        var markups = markedSources.Select(Markup.Parse).ToArray();
        var run = GeneratorHarness.Run([.. markups.Select(m => m.Source)]);
        var expectedSpans = markups.SelectMany((m, file) => m.Spans.Select(span => (File: file, Span: span))).ToArray();
        Assert.True(
            expectedSpans.Length == expected.Length,
            $"Test is malformed: {expectedSpans.Length} marked spans for {expected.Length} expected diagnostics.");

        var actual = run.Diagnostics;
        Assert.True(
            actual.Count == expected.Length,
            $"Expected {expected.Length} diagnostics, got {actual.Count}:\n" + string.Join("\n", actual));

        for (var i = 0; i < expected.Length; i++)
        {
            var diagnostic = actual[i];
            Assert.Equal(expected[i].Id, diagnostic.Id);
            Assert.Equal(expected[i].Severity, diagnostic.Severity);
            Assert.Equal($"/src/File{expectedSpans[i].File}.cs", diagnostic.Location.GetLineSpan().Path);

            var source = markups[expectedSpans[i].File].Source;
            var expectedText = source[expectedSpans[i].Span.Start..expectedSpans[i].Span.End];
            var actualText = diagnostic.Location.SourceSpan.End <= source.Length
                ? source[diagnostic.Location.SourceSpan.Start..diagnostic.Location.SourceSpan.End]
                : "<out of range>";
            Assert.True(
                expectedSpans[i].Span == diagnostic.Location.SourceSpan,
                $"{diagnostic.Id} at {diagnostic.Location.SourceSpan} \"{actualText}\", expected {expectedSpans[i].Span} \"{expectedText}\"");
        }

        return run;
    }

    public static GeneratorRun Reports(string markedSource, params (string Id, DiagnosticSeverity Severity)[] expected) =>
        Reports([markedSource], expected);
}
