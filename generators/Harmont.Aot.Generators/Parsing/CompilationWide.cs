using System.Collections.Generic;
using System.Collections.Immutable;
using Harmont.Aot.Generators.Model;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Checks and models that need every pipeline of the compilation at once.</summary>
internal static class CompilationWide
{
    /// <summary>HM0004 at every pipeline whose slug an earlier one (in compilation order) already took.</summary>
    public static EquatableArray<DiagnosticInfo> DuplicateSlugs(ImmutableArray<SlugSite?> sites)
    {
        var seen = new HashSet<string>();
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var site in sites)
        {
            if (site is not null && !seen.Add(site.Slug))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicatePipelineSlug, site.Location, site.Slug));
            }
        }

        return diagnostics.ToEquatableArray();
    }

    /// <summary>
    /// The catalog holds each emitted pipeline once per slug: the first wins, and the duplicate is
    /// left to HM0004 rather than to a run-time surprise.
    /// </summary>
    public static CatalogSpec Catalog(ImmutableArray<CatalogEntry?> entries, bool hasRuntime)
    {
        var seen = new HashSet<string>();
        var types = new List<string>();
        foreach (var entry in entries)
        {
            if (entry is not null && seen.Add(entry.Slug))
            {
                types.Add(entry.TypeExpression);
            }
        }

        return new CatalogSpec(hasRuntime, types.ToEquatableArray());
    }
}
