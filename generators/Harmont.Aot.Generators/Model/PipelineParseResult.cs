namespace Harmont.Aot.Generators.Model;

/// <summary>
/// What the parser learns from one [Pipeline] class. The generator splits it: <see cref="Spec"/>
/// feeds source output and <see cref="Diagnostics"/> feeds diagnostic output, so a change that
/// only moves locations leaves the spec equal and regenerates nothing.
/// </summary>
/// <param name="Spec">The emittable pipeline; null when it has errors.</param>
/// <param name="Slug">Where the slug was declared, for the compilation-wide duplicate check.</param>
internal sealed record PipelineParseResult(
    PipelineSpec? Spec,
    SlugSite? Slug,
    EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A pipeline's slug and the location of its [Pipeline] slug argument.</summary>
internal sealed record SlugSite(string Slug, LocationInfo? Location);

/// <summary>A pipeline that goes into the catalog.</summary>
internal sealed record CatalogEntry(string TypeExpression, string Slug);

/// <summary>The compilation-wide catalog: every emitted pipeline whose slug is not taken already.</summary>
/// <param name="HasRuntime">Whether Harmont.Aot is referenced; without it the catalog would not compile.</param>
internal sealed record CatalogSpec(bool HasRuntime, EquatableArray<string> TypeExpressions);
