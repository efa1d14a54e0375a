using Harmont.Aot.Generators.Emitting;
using Harmont.Aot.Generators.Model;
using Harmont.Aot.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Harmont.Aot.Generators;

/// <summary>
/// Turns [Pipeline] classes and their [Step] methods into a <c>Definition</c> per class and one
/// <c>PipelineCatalog</c>, so the step graph exists at compile time and graph mistakes are compile errors.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class PipelineGenerator : IIncrementalGenerator
{
    /// <summary>Names of the tracked pipeline steps, for incrementality tests.</summary>
    public static class TrackingNames
    {
        /// <summary>One parse result per [Pipeline] class.</summary>
        public const string Parse = "Harmont.Parse";

        /// <summary>The emittable part of each parse result.</summary>
        public const string Specs = "Harmont.Specs";

        /// <summary>The per-pipeline diagnostics of each parse result.</summary>
        public const string Diagnostics = "Harmont.Diagnostics";

        /// <summary>Duplicate slug diagnostics over the whole compilation.</summary>
        public const string SlugDiagnostics = "Harmont.SlugDiagnostics";

        /// <summary>The catalog model.</summary>
        public const string Catalog = "Harmont.Catalog";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownTypes.PipelineAttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                PipelineParser.Parse)
            .WithTrackingName(TrackingNames.Parse);

        // Source and diagnostics leave on separate outputs: moving a line changes the diagnostics'
        // locations but leaves the spec equal, so no source is regenerated.
        var specs = results
            .Select(static (result, _) => result.Spec)
            .WithTrackingName(TrackingNames.Specs);
        context.RegisterSourceOutput(specs, static (output, spec) =>
        {
            if (spec is not null)
            {
                output.AddSource(spec.HintName, PipelineEmitter.Emit(spec));
            }
        });

        var diagnostics = results
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, Report);

        var slugDiagnostics = results
            .Select(static (result, _) => result.Slug)
            .Collect()
            .Select(static (sites, _) => CompilationWide.DuplicateSlugs(sites))
            .WithTrackingName(TrackingNames.SlugDiagnostics);
        context.RegisterSourceOutput(slugDiagnostics, Report);

        // Without the runtime referenced, the catalog could not compile; the bool keeps the
        // compilation itself out of the pipeline's cached values.
        var hasRuntime = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(KnownTypes.PipelineDefinitionName) is not null);
        var catalog = specs
            .Select(static (spec, _) => spec is null ? null : new CatalogEntry(spec.TypeExpression, spec.Slug))
            .Collect()
            .Combine(hasRuntime)
            .Select(static (pair, _) => CompilationWide.Catalog(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Catalog);
        context.RegisterSourceOutput(catalog, static (output, spec) =>
        {
            if (spec.HasRuntime)
            {
                output.AddSource(CatalogEmitter.HintName, CatalogEmitter.Emit(spec));
            }
        });
    }

    private static void Report(SourceProductionContext output, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            output.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }
}
