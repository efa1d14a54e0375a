using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Harmont.Aot.Tests.Ir;

/// <summary>The mutant as text: written with fields twice where asked, made harmless, and sometimes broken.</summary>
internal sealed partial class IrMutator
{
    // Breaks the text: truncation, a deleted, inserted or replaced character, or garbage around it. A change
    // that still parses is dropped, since it could have turned a harmless command into another one.
    private string MutateText(string text)
    {
        var at = random.Next(text.Length + 1);
        var character = "{}[],:\"\\ 0a\u0000\uffff"[random.Next(12)];
        var mutant = random.Next(6) switch
        {
            0 => text[..at],
            1 => at < text.Length ? text.Remove(at, 1) : text + "}",
            2 => text.Insert(at, character.ToString()),
            3 => at < text.Length ? string.Concat(text.AsSpan(0, at), character.ToString(), text.AsSpan(at + 1)) : "",
            4 => text + (random.Next(2) == 0 ? " garbage" : "{}"),
            _ => "\uFEFF\uFEFF" + text,
        };
        try
        {
            using var parsed = JsonDocument.Parse(mutant, Lenient);
            return text;
        }
        catch (JsonException)
        {
            return mutant;
        }
    }

    // Every command becomes `true`, every backend the host, and no timeout is short enough to race a loaded machine.
    private static JsonNode? Harmless(JsonNode? root)
    {
        foreach (var (parent, name, _, node) in Places(root))
        {
            if (parent is not JsonObject obj || node is not JsonValue value)
            {
                continue;
            }

            var bare = name!.StartsWith(Twin) ? name[(name.LastIndexOf(Twin) + 1)..] : name;
            if (bare == "cmd" && value.GetValueKind() == JsonValueKind.String)
            {
                obj[name] = "true";
            }
            else if (bare == "runner" && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is "docker" or "auto")
            {
                obj[name] = "host";
            }
            else if (bare == "timeout_seconds" && value.GetValueKind() == JsonValueKind.Number && double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture) is > 0 and < 60)
            {
                obj[name] = 60;
            }
        }

        return root;
    }

    private static string Emit(JsonNode? node)
    {
        var builder = new StringBuilder();
        Emit(node, builder);
        return builder.ToString();
    }

    private static void Emit(JsonNode? node, StringBuilder builder)
    {
        switch (node)
        {
            case JsonObject obj:
                builder.Append('{');
                foreach (var (name, value) in obj)
                {
                    var bare = name.StartsWith(Twin) ? name[(name.LastIndexOf(Twin) + 1)..] : name;
                    builder.Append(JsonValue.Create(bare).ToJsonString()).Append(": ");
                    Emit(value, builder);
                    builder.Append(", ");
                }

                builder.Length -= obj.Count > 0 ? 2 : 0;
                builder.Append('}');
                break;
            case JsonArray array:
                builder.Append('[');
                foreach (var item in array)
                {
                    Emit(item, builder);
                    builder.Append(", ");
                }

                builder.Length -= array.Count > 0 ? 2 : 0;
                builder.Append(']');
                break;
            default:
                builder.Append(node is null ? "null" : node.ToJsonString());
                break;
        }
    }
}
