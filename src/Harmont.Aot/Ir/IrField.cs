using System.Globalization;
using System.Text.Json;
using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>
/// One JSON value of an IR document and its path (<c>graph.nodes[2].step.cmd</c>); every read that
/// fails throws a <see cref="PipelineException"/> naming the path, the problem and the fix.
/// </summary>
internal readonly record struct IrField(string Source, string Path, JsonElement Value)
{
    public bool IsObject => Value.ValueKind == JsonValueKind.Object;

    public IrField Property(string name) => new(Source, Path.Length == 0 ? Printable(name) : $"{Path}.{Printable(name)}", Property(Value, name));

    public IrField Item(int index, JsonElement value) => new(Source, $"{Path}[{index}]", value);

    /// <summary>True when the property is absent or JSON null.</summary>
    public bool IsMissing => Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;

    public PipelineException Error(string problem, string fix) => new($"{Source}: {Path} {problem}; {fix}.");

    public void RequireObject(string fix)
    {
        if (!IsObject)
        {
            throw Error($"must be an object, not {Describe()}", fix);
        }
    }

    /// <summary>
    /// The object has no field outside <paramref name="known"/> and none twice: a field this runner would not
    /// honour is an error, never silently dropped, and a repeated one has no single meaning.
    /// </summary>
    /// <param name="what">What the object is, for the message: "a command step".</param>
    /// <param name="known">The field names the object may have.</param>
    public void RequireOnly(string what, params string[] known)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in Value.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw Property(property.Name).Error("appears twice", "keep one of them");
            }

            if (System.Array.IndexOf(known, property.Name) < 0)
            {
                throw new PipelineException(
                    $"{Source}: {Property(property.Name).Path} is not a field of {what} that this runner can honour; remove it " +
                    $"(the fields it reads here: {string.Join(", ", known)}).");
            }
        }
    }

    public string RequiredString(string fix)
    {
        if (IsMissing)
        {
            throw Error("is missing", fix);
        }

        return Value.ValueKind == JsonValueKind.String && Value.GetString() is { Length: > 0 } text
            ? WithoutNul(text, fix)
            : throw Error($"must be a non-empty string, not {Describe()}", fix);
    }

    public string? OptionalString(string fix)
    {
        if (IsMissing)
        {
            return null;
        }

        return Value.ValueKind == JsonValueKind.String && Value.GetString() is { Length: > 0 } text
            ? WithoutNul(text, fix)
            : throw Error($"must be a non-empty string or absent, not {Describe()}", fix);
    }

    /// <summary>Any string, the empty one included; a NUL is refused, as no command, name or value can carry one.</summary>
    public string String(string fix) =>
        Value.ValueKind == JsonValueKind.String
            ? WithoutNul(Value.GetString()!, fix)
            : throw Error(IsMissing ? "is missing" : $"must be a string, not {Describe()}", fix);

    public bool OptionalBool(string fix)
    {
        return IsMissing
            ? false
            : Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"must be true or false, not {Describe()}", fix),
            };
    }

    /// <summary>The longest timeout a run can wait for: a cancellation timer counts milliseconds in 32 bits (about 49 days).</summary>
    public const long LongestTimeoutSeconds = 4_294_967;

    /// <summary>A positive whole number of seconds, at most <paramref name="most"/>, or null when absent.</summary>
    public TimeSpan? OptionalSeconds(string fix, long most = int.MaxValue)
    {
        if (IsMissing)
        {
            return null;
        }

        if (Value.ValueKind != JsonValueKind.Number || !Value.TryGetInt64(out var seconds))
        {
            throw Error($"must be a whole number of seconds, not {Describe()}", fix);
        }

        return seconds <= 0 ? throw Error($"is {seconds}, which is not positive", fix)
            : seconds > most ? throw Error($"is {seconds}, more than the {most} this runner can count", fix)
            : TimeSpan.FromSeconds(seconds);
    }

    public List<IrField> Array(string fix)
    {
        if (Value.ValueKind != JsonValueKind.Array)
        {
            throw Error(IsMissing ? "is missing" : $"must be an array, not {Describe()}", fix);
        }

        var path = this;
        return [.. Value.EnumerateArray().Select((item, i) => path.Item(i, item))];
    }

    public List<string> OptionalStrings(string fix)
    {
        if (IsMissing)
        {
            return [];
        }

        return [.. Array(fix).Select(item => item.RequiredString(fix))];
    }

    /// <summary>
    /// An object of environment variable names (as the DSL accepts them: letters, digits and '_', not starting
    /// with a digit) to string values, in document order; empty when absent.
    /// </summary>
    public List<KeyValuePair<string, string>> OptionalStringMap(string fix)
    {
        if (IsMissing)
        {
            return [];
        }

        RequireObject(fix);
        var result = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in Value.EnumerateObject())
        {
            var item = Property(property.Name);
            if (!SettingSyntax.IsVariableName(property.Name))
            {
                throw new PipelineException(
                    $"{Source}: {Path} has \"{Printable(property.Name)}\", which is not an environment variable name; " +
                    "use letters, digits and '_', not starting with a digit.");
            }

            if (!seen.Add(property.Name))
            {
                throw item.Error("appears twice", "keep one of them");
            }

            result.Add(new(property.Name, item.String(fix)));
        }

        return result;
    }

    /// <summary>A list of environment variable names; empty when absent.</summary>
    public List<string> OptionalVariableNames(string fix)
    {
        var names = OptionalStrings(fix);
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            if (!SettingSyntax.IsVariableName(name))
            {
                throw Item(i, Value[i]).Error(
                    $"is \"{Printable(name)}\", which is not an environment variable name", "use letters, digits and '_', not starting with a digit");
            }
        }

        return names;
    }

    public string Describe() => Value.ValueKind switch
    {
        JsonValueKind.Undefined => "missing",
        JsonValueKind.Null => "null",
        JsonValueKind.String => $"the string \"{Printable(Value.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Printable(Value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => Value.GetRawText(),
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    /// <summary>Text from the document as it may appear in a one-line message: control characters escaped, long text cut.</summary>
    public static string Printable(string text, int longest = 80)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var c in text.Length > longest ? text[..longest] : text)
        {
            _ = char.IsControl(c) ? builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : builder.Append(c);
        }

        return text.Length > longest ? builder.Append("...").ToString() : builder.ToString();
    }

    private string WithoutNul(string text, string fix) =>
        text.Contains('\0', StringComparison.Ordinal) ? throw Error("contains a NUL character", fix) : text;

    private static JsonElement Property(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out var property) ? property : default;
}
