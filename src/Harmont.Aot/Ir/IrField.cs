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

    public IrField Property(string name) => new(Source, Path.Length == 0 ? name : $"{Path}.{name}", Property(Value, name));

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

    public string RequiredString(string fix)
    {
        if (IsMissing)
        {
            throw Error("is missing", fix);
        }

        return Value.ValueKind == JsonValueKind.String && Value.GetString() is { Length: > 0 } text
            ? text
            : throw Error($"must be a non-empty string, not {Describe()}", fix);
    }

    public string? OptionalString(string fix)
    {
        if (IsMissing)
        {
            return null;
        }

        return Value.ValueKind == JsonValueKind.String && Value.GetString() is { Length: > 0 } text
            ? text
            : throw Error($"must be a non-empty string or absent, not {Describe()}", fix);
    }

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

    /// <summary>A positive whole number of seconds, or null when absent.</summary>
    public TimeSpan? OptionalSeconds(string fix)
    {
        if (IsMissing)
        {
            return null;
        }

        if (Value.ValueKind != JsonValueKind.Number || !Value.TryGetInt64(out var seconds) || seconds > int.MaxValue)
        {
            throw Error($"must be a whole number of seconds, not {Describe()}", fix);
        }

        return seconds <= 0 ? throw Error($"is {seconds}, which is not positive", fix) : TimeSpan.FromSeconds(seconds);
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

    /// <summary>A string-to-string object in document order; empty when absent.</summary>
    public List<KeyValuePair<string, string>> OptionalStringMap(string fix)
    {
        if (IsMissing)
        {
            return [];
        }

        RequireObject(fix);
        var result = new List<KeyValuePair<string, string>>();
        foreach (var property in Value.EnumerateObject())
        {
            var item = Property(property.Name);
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw item.Error($"must be a string, not {item.Describe()}", fix);
            }

            result.Add(new(property.Name, property.Value.GetString()!));
        }

        return result;
    }

    public string Describe() => Value.ValueKind switch
    {
        JsonValueKind.Undefined => "missing",
        JsonValueKind.Null => "null",
        JsonValueKind.String => $"the string \"{Value.GetString()}\"",
        JsonValueKind.Number => $"the number {Value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => Value.GetRawText(),
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private static JsonElement Property(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty(name, out var property) ? property : default;
}
