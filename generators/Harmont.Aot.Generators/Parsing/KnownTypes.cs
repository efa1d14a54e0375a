using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>The runtime's DSL types as seen by one compilation; null where the runtime is not referenced.</summary>
internal sealed record KnownTypes(
    INamedTypeSymbol? StepAttribute,
    INamedTypeSymbol? EnvAttribute,
    INamedTypeSymbol? SecretAttribute,
    INamedTypeSymbol? CacheForeverAttribute,
    INamedTypeSymbol? CacheTtlAttribute,
    INamedTypeSymbol? CacheOnChangeAttribute,
    INamedTypeSymbol? Runner,
    INamedTypeSymbol? CacheMountAttribute,
    INamedTypeSymbol? Network)
{
    public const string PipelineAttributeName = "Harmont.Aot.PipelineAttribute";
    public const string PipelineDefinitionName = "Harmont.Aot.Model.PipelineDefinition";

    public static KnownTypes From(Compilation compilation) => new(
        compilation.GetTypeByMetadataName("Harmont.Aot.StepAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.EnvAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.SecretAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.CacheForeverAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.CacheTtlAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.CacheOnChangeAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.Runner"),
        compilation.GetTypeByMetadataName("Harmont.Aot.CacheMountAttribute"),
        compilation.GetTypeByMetadataName("Harmont.Aot.Network"));

    public static bool Is(AttributeData attribute, INamedTypeSymbol? type) =>
        type is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, type);
}
