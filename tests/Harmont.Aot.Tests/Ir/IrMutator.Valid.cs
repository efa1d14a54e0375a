using System.Text.Json.Nodes;

namespace Harmont.Aot.Tests.Ir;

/// <summary>The mutations a valid document survives, so that mutants also reach the run behind the reader.</summary>
internal sealed partial class IrMutator
{
    private static readonly string[] GoodPaths = ["app", "VERSION", ".", "./app/", "app//lib", "app/lib/util.c", "app/*.c", "sub", "sub/dir/marker", "src/**"];

    // A change a valid document survives: odd labels and env values, other paths, policies and directories, more steps and waits.
    private JsonNode? Benign(JsonNode? root)
    {
        var places = Places(root);
        var commands = places.Where(p => p.Node is JsonObject o && o.ContainsKey("cmd")).Select(p => (JsonObject)p.Node!).ToList();
        if (commands.Count == 0)
        {
            return root;
        }

        var step = commands[random.Next(commands.Count)];
        var printable = OddStrings.Where(o => o.Length > 0 && !o.Contains('\0', StringComparison.Ordinal)).ToArray();
        switch (random.Next(8))
        {
            case 7:
                // Long limits: the longest a timer can wait, one second past it, and far past it.
                var limit = new long[] { 60, 86_400, 4_294_967, 4_294_968, int.MaxValue }[random.Next(5)];
                (random.Next(2) == 0 && root is JsonObject top ? top : step)["timeout_seconds"] = limit;
                break;
            case 0:
                step["label"] = printable[random.Next(printable.Length)];
                break;
            case 1:
                if (step["env"] is not JsonObject env)
                {
                    env = [];
                    step["env"] = env;
                }

                env[random.Next(2) == 0 ? "CI" : $"V_{random.Next(5)}"] = printable[random.Next(printable.Length)];
                break;
            case 2:
                step["cache"] = RandomPolicy(2);
                break;
            case 3:
                step["cwd"] = new[] { "sub", "sub/dir", "app", "app/lib", "missing" }[random.Next(5)];
                break;
            case 4 when step.Parent is JsonArray steps && step.ContainsKey("type"):
                var copy = (JsonObject)step.DeepClone();
                copy["key"] = $"extra-{random.Next(1000)}";
                copy["builds_in"] = random.Next(2) == 0 ? null : step["key"]?.DeepClone();
                steps.Insert(random.Next(steps.Count + 1), copy);
                break;
            case 5 when step.Parent is JsonArray steps && step.ContainsKey("type"):
                steps.Insert(random.Next(steps.Count + 1), new JsonObject { ["type"] = "wait" });
                break;
            default:
                var shuffled = step.Select(p => (p.Key, Value: p.Value?.DeepClone())).OrderBy(_ => random.Next()).ToList();
                step.Clear();
                shuffled.ForEach(p => step[p.Key] = p.Value);
                break;
        }

        return root;
    }

    private JsonObject RandomPolicy(int depth) => random.Next(depth > 0 ? 5 : 4) switch
    {
        0 => new JsonObject { ["policy"] = "forever", ["env_keys"] = new JsonArray("CI") },
        1 => new JsonObject { ["policy"] = "ttl", ["duration_seconds"] = random.Next(1, 1_000_000), ["env_keys"] = new JsonArray() },
        2 => new JsonObject { ["policy"] = "on_change", ["paths"] = new JsonArray([.. GoodPaths.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).Select(p => JsonValue.Create(p))]) },
        3 => new JsonObject { ["policy"] = "none" },
        _ => new JsonObject { ["policy"] = "compose", ["sub_policies"] = new JsonArray(RandomPolicy(depth - 1), RandomPolicy(depth - 1)), ["key"] = "rendered" },
    };
}
