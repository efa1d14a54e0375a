using System.Text.Json;
using System.Text.Json.Nodes;

namespace Harmont.Aot.Tests.Ir;

/// <summary>
/// Turns a valid IR document into a hostile one, reproducibly from its <see cref="Random"/>: deleted,
/// duplicated and retyped fields, wrong types, huge numbers, deep nesting, cycles, unknown references,
/// odd strings and paths, invalid or truncated JSON. Every command it leaves is <c>true</c> and every
/// backend the host, so running a mutant is harmless.
/// </summary>
internal sealed partial class IrMutator(Random random)
{
    // A property whose name starts with this is written under the rest of its name: how a mutant gets a field twice.
    private const char Twin = '\u0001';

    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 4096, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly string[] OddStrings =
    [
        "", " ", "\u0000", "a\u0000b", "\n", "line\nbreak", "\t", "\u001b[31m", "A=B", "1ST", "-", "--pipeline", "..", "../..", "/", "/etc/passwd",
        "~", "C:\\x", "a\\b", "*", "**", "[", "]", "a]b", "{a,b}", "$(id)", "`id`", "ünïcödé", "😀", "\ud800", "null", "true", "0", "default",
        "app", "app/", "./app", "app//lib", "app/lib/util.c", "VERSION", ".", "./", "sub", "sub/dir", "missing", "app/*.c", "app/**", "src/**",
        new string('k', 201), new string('x', 5000), "alpine:3.20", "host", "docker", "freestyle", "forever", "ttl", "on_change", "compose", "none",
        "command", "wait", "builds_in", "depends_on", "directed", "undirected", "deps", "build", "lint", "package", "nightly",
    ];

    private static readonly string[] RawNumbers =
    [
        "0", "-1", "1", "1.5", "-0", "1e3", "1e308", "-1e308", "2147483647", "2147483648", "4294967", "4294968", "86400",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e400", "0.0000001",
    ];

    private static readonly string[] FieldNames =
    [
        "version", "slug", "default_image", "timeout_seconds", "env", "runner", "graph", "steps", "type", "key", "label", "cmd", "eval",
        "builds_in", "image", "secrets", "cwd", "cache", "runner_args", "continue_on_failure", "policy", "env_keys", "duration_seconds",
        "paths", "sub_policies", "nodes", "edges", "node_holes", "edge_property", "step", "depends_on", "artifact_paths", "retry", "if",
    ];

    /// <summary><paramref name="json"/> with every command <c>true</c> and every backend the host.</summary>
    public static string MakeHarmless(string json) => Emit(Harmless(JsonNode.Parse(json, documentOptions: Lenient)));

    /// <summary>
    /// A mutant of <paramref name="seed"/>: one to four mutations, then sometimes a textual one. Half the mutants
    /// get only changes a valid document survives, so the run behind the reader is exercised too.
    /// </summary>
    public string Mutate(string seed)
    {
        var root = JsonNode.Parse(seed, documentOptions: Lenient);
        var hostile = random.Next(2) == 0;
        for (var i = random.Next(1, 5); i > 0; i--)
        {
            root = hostile && random.Next(3) > 0 ? MutateOnce(root) : Benign(root);
        }

        var text = Emit(Harmless(root));
        return random.Next(5) == 0 ? MutateText(text) : text;
    }

    private JsonNode? MutateOnce(JsonNode? root)
    {
        var places = Places(root);
        var (parent, name, index, node) = places[random.Next(places.Count)];
        JsonNode? Replace(JsonNode? value)
        {
            if (parent is null)
            {
                return value;
            }

            if (parent is JsonObject obj)
            {
                obj[name!] = value;
            }
            else
            {
                ((JsonArray)parent)[index] = value;
            }

            return root;
        }

        switch (random.Next(14))
        {
            case 0 when parent is JsonObject obj:
                obj.Remove(name!);
                return root;
            case 1 when parent is JsonArray array:
                array.RemoveAt(index);
                return root;
            case 2 when parent is JsonObject obj:
                obj[$"{Twin}{random.Next()}{Twin}{name}"] = RandomValue(2);
                return root;
            case 3 when parent is JsonArray array:
                array.Insert(random.Next(array.Count + 1), node?.DeepClone());
                return root;
            case 4:
                return Replace(RandomValue(3));
            case 5:
                return Replace(JsonNode.Parse(RawNumbers[random.Next(RawNumbers.Length)]));
            case 6:
                return Replace(Nest(node?.DeepClone(), random.Next(1, random.Next(2) == 0 ? 12 : 120)));
            case 7 when node is JsonObject obj:
                obj[random.Next(3) == 0 ? OddString() : FieldNames[random.Next(FieldNames.Length)]] = RandomValue(2);
                return root;
            case 8 when node is JsonObject obj && obj.Count > 0:
                var renamed = obj.ElementAt(random.Next(obj.Count));
                obj.Remove(renamed.Key);
                obj[OddString()] = renamed.Value;
                return root;
            case 9 when node is JsonArray array && array.Count > 1:
                var shuffled = array.Select(n => n?.DeepClone()).OrderBy(_ => random.Next()).ToList();
                array.Clear();
                shuffled.ForEach(array.Add);
                return root;
            case 10:
                return Rewire(root);
            case 11 when node is JsonObject obj && obj.ContainsKey("policy"):
                return Replace(new JsonObject { ["policy"] = "compose", ["sub_policies"] = new JsonArray(Nest(node.DeepClone(), random.Next(0, 3))) });
            default:
                return Replace(JsonValue.Create(OddString()));
        }
    }

    // Cycles and unknown references: a builds_in or an edge pointed somewhere it should not.
    private JsonNode? Rewire(JsonNode? root)
    {
        var keys = Places(root).Where(p => p.Name == "key" && p.Node is JsonValue).Select(p => p.Node!.ToJsonString()).ToList();
        var steps = Places(root).Where(p => p.Node is JsonObject o && (o.ContainsKey("builds_in") || o.ContainsKey("type"))).Select(p => (JsonObject)p.Node!).ToList();
        var edges = Places(root).Where(p => p.Name == "edges" && p.Node is JsonArray).Select(p => (JsonArray)p.Node!).ToList();
        if (steps.Count > 0 && (edges.Count == 0 || random.Next(2) == 0))
        {
            var target = keys.Count > 0 && random.Next(4) > 0 ? JsonNode.Parse(keys[random.Next(keys.Count)]) : JsonValue.Create("ghost");
            steps[random.Next(steps.Count)]["builds_in"] = target;
        }
        else if (edges.Count > 0)
        {
            int End() => random.Next(4) == 0 ? random.Next(-2, 40) : random.Next(4);
            var kind = random.Next(5) switch { 0 => "inherits", 1 or 2 => "builds_in", _ => "depends_on" };
            edges[random.Next(edges.Count)].Add(new JsonArray(End(), End(), kind));
        }

        return root;
    }

    private JsonNode? Nest(JsonNode? inner, int depth)
    {
        for (var i = 0; i < depth; i++)
        {
            inner = random.Next(2) == 0 ? new JsonArray(inner) : new JsonObject { [FieldNames[random.Next(FieldNames.Length)]] = inner };
        }

        return inner;
    }

    private JsonNode? RandomValue(int depth) => random.Next(depth > 0 ? 9 : 6) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonNode.Parse(RawNumbers[random.Next(RawNumbers.Length)]),
        3 or 4 => JsonValue.Create(OddString()),
        5 => JsonValue.Create(random.Next(-5, 100_000)),
        6 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(depth - 1))]),
        _ => RandomObject(depth - 1),
    };

    private JsonObject RandomObject(int depth)
    {
        var obj = new JsonObject();
        for (var i = random.Next(4); i > 0; i--)
        {
            obj[random.Next(4) == 0 ? OddString() : FieldNames[random.Next(FieldNames.Length)]] = RandomValue(depth);
        }

        return obj;
    }

    private string OddString() => OddStrings[random.Next(OddStrings.Length)];

    private static List<(JsonNode? Parent, string? Name, int Index, JsonNode? Node)> Places(JsonNode? root)
    {
        var places = new List<(JsonNode?, string?, int, JsonNode?)> { (null, null, -1, root) };
        for (var i = 0; i < places.Count; i++)
        {
            switch (places[i].Item4)
            {
                case JsonObject obj:
                    places.AddRange(obj.Select(p => ((JsonNode?)obj, (string?)p.Key, -1, p.Value)));
                    break;
                case JsonArray array:
                    places.AddRange(array.Select((n, k) => ((JsonNode?)array, (string?)null, k, n)));
                    break;
            }
        }

        return places;
    }
}
