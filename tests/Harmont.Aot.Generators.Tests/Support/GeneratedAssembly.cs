using System.Reflection;
using System.Runtime.Loader;
using Harmont.Aot.Model;
using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Tests.Support;

/// <summary>
/// Emits a compilation and loads it into a collectible context. Harmont.Aot resolves to the test's
/// own copy, so the catalog's definitions are the real runtime types.
/// </summary>
public sealed class GeneratedAssembly : IDisposable
{
    private readonly AssemblyLoadContext _context = new("generated-pipelines", isCollectible: true);

    public GeneratedAssembly(Compilation compilation)
    {
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", result.Diagnostics));
        }

        image.Position = 0;
        Assembly = _context.LoadFromStream(image);
    }

    public Assembly Assembly { get; }

    /// <summary>Reflection is for the test only: it finds the catalog the way no product code has to.</summary>
    public IReadOnlyList<PipelineDefinition> Catalog()
    {
        var catalog = Assembly.GetType("Harmont.Aot.Generated.PipelineCatalog", throwOnError: true)!;
        return (IReadOnlyList<PipelineDefinition>)catalog.GetProperty("All")!.GetValue(null)!;
    }

    public void Dispose() => _context.Unload();
}
