using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis.CSharp;

namespace Harmont.Aot.Generators.Emitting;

/// <summary>C# spellings of model values.</summary>
internal static class Literals
{
    public const string GeneratedCodeAttribute =
        "[global::System.CodeDom.Compiler.GeneratedCode(\"Harmont.Aot.Generators\", \"1.0.0\")]";

    /// <summary>A quoted, escaped string literal, or <c>null</c>.</summary>
    public static string String(string? value) =>
        value is null ? "null" : SymbolDisplay.FormatLiteral(value, quote: true);

    public static string Runner(RunnerSpec runner) => runner.Member is { } member
        ? "global::Harmont.Aot.Runner." + member
        : "(global::Harmont.Aot.Runner)(" + runner.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";
}
