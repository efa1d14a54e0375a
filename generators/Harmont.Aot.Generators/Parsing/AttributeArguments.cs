using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>
/// Reads attribute values from <see cref="AttributeData"/> and finds the syntax that wrote them,
/// so that a diagnostic can point at the exact argument.
/// </summary>
internal readonly struct AttributeArguments
{
    private readonly AttributeData _data;

    public AttributeArguments(AttributeData data, CancellationToken cancellationToken)
    {
        _data = data;
        Syntax = data.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
    }

    /// <summary>The attribute as written; the fallback location when no argument is more precise.</summary>
    public AttributeSyntax? Syntax { get; }

    public string? ConstructorString(int index) =>
        index < _data.ConstructorArguments.Length ? AsString(_data.ConstructorArguments[index]) : null;

    public string? NamedString(string name) => TryGetNamed(name, out var value) ? AsString(value) : null;

    public TypedConstant? Named(string name) => TryGetNamed(name, out var value) ? value : null;

    /// <summary>The named argument's elements when it is an array; null when it is absent or null.</summary>
    public IReadOnlyList<TypedConstant>? NamedArray(string name) =>
        TryGetNamed(name, out var value) && value.Kind == TypedConstantKind.Array && !value.IsNull ? value.Values : null;

    public ExpressionSyntax? ConstructorExpression(int index) =>
        Syntax?.ArgumentList?.Arguments.Where(a => a.NameEquals is null).ElementAtOrDefault(index)?.Expression;

    public ExpressionSyntax? NamedExpression(string name) =>
        Syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.Expression;

    /// <summary>The element expressions of an array argument, whichever array syntax the user chose.</summary>
    public static IReadOnlyList<ExpressionSyntax>? ElementExpressions(ExpressionSyntax? expression) => expression switch
    {
        CollectionExpressionSyntax collection => collection.Elements.OfType<ExpressionElementSyntax>().Select(e => e.Expression).ToList(),
        ArrayCreationExpressionSyntax array => array.Initializer?.Expressions.ToList(),
        ImplicitArrayCreationExpressionSyntax array => array.Initializer.Expressions.ToList(),
        _ => null,
    };

    /// <summary>
    /// The strings of a <c>params string[]</c> constructor parameter at <paramref name="index"/>, each
    /// with the expression that wrote it when the syntax lines up, else the whole attribute.
    /// </summary>
    public IReadOnlyList<(string? Value, LocationInfo? Location)> ParamsStrings(int index)
    {
        if (index >= _data.ConstructorArguments.Length || _data.ConstructorArguments[index] is not { Kind: TypedConstantKind.Array, IsNull: false } array)
        {
            return [];
        }

        var positional = Syntax?.ArgumentList?.Arguments.Where(a => a.NameEquals is null && a.NameColon is null).Select(a => a.Expression).ToList() ?? [];
        var expressions = positional.Count == index + array.Values.Length
            ? positional.Skip(index).ToList()
            : positional.Count == index + 1 ? ElementExpressions(positional[index])?.ToList() : null;
        var perElement = expressions is not null && expressions.Count == array.Values.Length;

        var result = new List<(string?, LocationInfo?)>(array.Values.Length);
        for (var i = 0; i < array.Values.Length; i++)
        {
            if (array.Values[i].Kind == TypedConstantKind.Error)
            {
                continue;
            }

            result.Add((AsString(array.Values[i]), LocationInfo.From(perElement ? expressions![i] : Syntax)));
        }

        return result;
    }

    public static string? AsString(TypedConstant constant) =>
        constant.Kind == TypedConstantKind.Primitive ? constant.Value as string : null;

    private bool TryGetNamed(string name, out TypedConstant value)
    {
        foreach (var pair in _data.NamedArguments)
        {
            if (pair.Key == name)
            {
                value = pair.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
