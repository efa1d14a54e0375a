using System;
using System.Globalization;
using System.Linq;
using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Turns a <c>Runner</c> attribute value into a <see cref="RunnerSpec"/> named after the enum member.</summary>
internal static class RunnerReader
{
    /// <param name="runnerType">The <c>Harmont.Aot.Runner</c> enum, used to name the value.</param>
    /// <param name="defaultValue">The attribute property's default, used when the argument is absent.</param>
    public static RunnerSpec Read(TypedConstant? constant, INamedTypeSymbol? runnerType, int defaultValue)
    {
        var value = constant is { Kind: TypedConstantKind.Enum, Value: { } boxed }
            ? Convert.ToInt32(boxed, CultureInfo.InvariantCulture)
            : defaultValue;

        // Name the member so the generated code reads `Runner.Host`; an undefined value
        // (a cast like `(Runner)7`) keeps its number and is emitted as a cast.
        var member = runnerType?.GetMembers()
            .OfType<IFieldSymbol>()
            .FirstOrDefault(f => f.HasConstantValue && Convert.ToInt32(f.ConstantValue, CultureInfo.InvariantCulture) == value);
        return new RunnerSpec(value, member?.Name);
    }
}
