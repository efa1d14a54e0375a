using System.Linq;
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

    public static string Network(RunnerSpec network) => network.Member is { } member
        ? "global::Harmont.Aot.Network." + member
        : "(global::Harmont.Aot.Network)(" + network.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";

    /// <summary>A <c>string[]</c> expression.</summary>
    public static string Strings(EquatableArray<string> values) => values.IsEmpty
        ? "global::System.Array.Empty<string>()"
        : $"new string[] {{ {string.Join(", ", values.Select(v => String(v)))} }}";

    /// <summary>A <c>KeyValuePair&lt;string, string&gt;[]</c> expression.</summary>
    public static string Env(EquatableArray<EnvSpec> env)
    {
        const string Pair = "global::System.Collections.Generic.KeyValuePair<string, string>";
        return env.IsEmpty
            ? $"global::System.Array.Empty<{Pair}>()"
            : $"new {Pair}[] {{ {string.Join(", ", env.Select(e => $"new({String(e.Name)}, {String(e.Value)})"))} }}";
    }

    /// <summary>A <c>TimeSpan?</c> expression, exact to the tick, with the text the user wrote beside it.</summary>
    public static string Duration(DurationSpec? duration) => duration is null
        ? "null"
        : $"global::System.TimeSpan.FromTicks({duration.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)}L) /* {duration.Text.Replace("*/", "* /")} */";
}
