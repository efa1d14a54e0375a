using System.Collections.Immutable;
using Harmont.Aot.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Harmont.Aot.Generators.Tests.Support;

/// <summary>Builds compilations against the real runtime assembly and drives the generator over them.</summary>
public static class GeneratorHarness
{
    /// <summary>Documentation diagnostics on, so generated public members without docs would warn.</summary>
    public static CSharpParseOptions ParseOptions { get; } = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    /// <summary>A library compilation with nullable on; tree <c>i</c> gets the path <c>/src/File{i}.cs</c>.</summary>
    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "UserPipelines",
            sources.Select((text, i) => Tree(text, i)),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static SyntaxTree Tree(string text, int index) =>
        CSharpSyntaxTree.ParseText(text, ParseOptions, path: $"/src/File{index}.cs");

    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        [new PipelineGenerator().AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateDriver(), Compile(sources));

    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
    {
        var next = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return new GeneratorRun(next, compilation, output);
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return platform
            .Append(typeof(PipelineDefinition).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}

/// <summary>One generator run: the driver to run again, the input and the output compilation.</summary>
public sealed record GeneratorRun(GeneratorDriver Driver, Compilation Input, Compilation Output)
{
    public GeneratorRunResult Result => Driver.GetRunResult().Results.Single();

    /// <summary>Diagnostics the generator reported, in source order.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics =>
        [.. Result.Diagnostics.OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)];

    public IReadOnlyList<SyntaxTree> GeneratedTrees => [.. Result.GeneratedSources.Select(s => s.SyntaxTree)];

    public IReadOnlyList<string> HintNames => [.. Result.GeneratedSources.Select(s => s.HintName)];

    public string Source(string hintName) =>
        Result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>Warnings and errors of the output compilation: with TreatWarningsAsErrors, both break a build.</summary>
    public IReadOnlyList<Diagnostic> CompilationProblems =>
        [.. Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
}
