using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Harmont.Aot.Generators.Model;

/// <summary>
/// A source location without the syntax tree, so that a model holding it stays comparable
/// across compilations; <see cref="ToLocation"/> rebuilds a reportable location.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}
