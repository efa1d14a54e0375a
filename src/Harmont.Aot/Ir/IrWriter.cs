using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>
/// Writes a pipeline as a Harmont v0 IR document in the graph form: <c>graph.nodes</c> with
/// key/label/cmd/image/env/secrets/timeout_seconds/cache/runner, and <c>graph.edges</c> of kind
/// <c>builds_in</c> (lineage) and <c>depends_on</c> (ordering). <see cref="IrDocument"/> reads it back.
/// </summary>
/// <remarks>
/// A step's <c>cwd</c> is folded into its command (<c>cd 'dir' &amp;&amp; cmd</c>) as harmont-py does, so
/// any v0 consumer runs it in the right place. <c>slug</c>, pipeline <c>env</c> and <c>runner</c> are
/// top-level fields v0 consumers ignore. Commands that are not constants are evaluated once, here.
/// </remarks>
internal static class IrWriter
{
    public static string Render(PipelineDefinition pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(json, pipeline);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    public static void Write(Utf8JsonWriter json, PipelineDefinition pipeline)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(pipeline);
        var index = pipeline.Steps.Select((s, i) => (s.Key, i)).ToDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);

        json.WriteStartObject();
        json.WriteString("version", "0");
        json.WriteString("slug", pipeline.Slug);
        if (pipeline.DefaultImage is { } image)
        {
            json.WriteString("default_image", image);
        }

        if (pipeline.Timeout is { } timeout)
        {
            json.WriteNumber("timeout_seconds", Seconds(timeout));
        }

        if (pipeline.Runner != Runner.Auto)
        {
            json.WriteString("runner", RunnerName(pipeline.Runner));
        }

        if (pipeline.Env.Count > 0)
        {
            WriteMap(json, "env", pipeline.Env);
        }

        json.WriteStartObject("graph");
        json.WriteStartArray("nodes");
        foreach (var step in pipeline.Steps)
        {
            WriteNode(json, pipeline, step);
        }

        json.WriteEndArray();
        json.WriteStartArray("node_holes");
        json.WriteEndArray();
        json.WriteString("edge_property", "directed");
        json.WriteStartArray("edges");
        for (var i = 0; i < pipeline.Steps.Count; i++)
        {
            var step = pipeline.Steps[i];
            if (step.From is { } parent && index.TryGetValue(parent, out var from))
            {
                WriteEdge(json, from, i, "builds_in");
            }

            foreach (var prerequisite in step.After)
            {
                if (index.TryGetValue(prerequisite, out var before))
                {
                    WriteEdge(json, before, i, "depends_on");
                }
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter json, PipelineDefinition pipeline, StepDefinition step)
    {
        json.WriteStartObject();
        json.WriteStartObject("step");
        json.WriteString("key", step.Key);
        json.WriteString("label", step.Label);
        json.WriteString("cmd", step.Cwd is { } cwd ? $"cd {ShellQuote(cwd)} && {Command(step)}" : Command(step));
        if (step.Image is { } image)
        {
            json.WriteString("image", image);
        }

        // The node's own env: what the step sets beyond (or differently from) the pipeline's.
        var own = step.Env.Where(e => !pipeline.Env.Contains(e)).ToList();
        if (own.Count > 0)
        {
            WriteMap(json, "env", own);
        }

        if (step.Secrets.Count > 0)
        {
            WriteMap(json, "secrets", step.Secrets.Select(s => new KeyValuePair<string, string>(s, s)));
        }

        if (step.Timeout is { } timeout)
        {
            json.WriteNumber("timeout_seconds", Seconds(timeout));
        }

        if (step.Cache.Count > 0)
        {
            json.WritePropertyName("cache");
            WriteCache(json, step.Cache);
        }

        if (step.Runner != Runner.Inherit)
        {
            json.WriteString("runner", RunnerName(step.Runner));
        }

        if (step.Incremental)
        {
            json.WriteBoolean("incremental", true);
        }

        if (step.CacheMounts.Count > 0)
        {
            json.WriteStartArray("cache_mounts");
            foreach (var mount in step.CacheMounts)
            {
                json.WriteStartObject();
                json.WriteString("path", mount.Path);
                if (mount.Id is { } id)
                {
                    json.WriteString("id", id);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        if (Keys.StepDefinitionHash.NetworkName(step.Network) is { } network)
        {
            json.WriteString("network", network);
        }

        json.WriteEndObject();
        WriteMap(json, "env", step.Env);
        json.WriteEndObject();
    }

    private static void WriteCache(Utf8JsonWriter json, IReadOnlyList<CachePolicy> policies)
    {
        if (policies.Count == 1)
        {
            WritePolicy(json, policies[0]);
            return;
        }

        json.WriteStartObject();
        json.WriteString("policy", "compose");
        json.WriteStartArray("sub_policies");
        foreach (var policy in policies)
        {
            WritePolicy(json, policy);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WritePolicy(Utf8JsonWriter json, CachePolicy policy)
    {
        json.WriteStartObject();
        switch (policy)
        {
            case ForeverCachePolicy forever:
                json.WriteString("policy", "forever");
                WriteStrings(json, "env_keys", forever.EnvKeys);
                break;
            case TtlCachePolicy ttl:
                json.WriteString("policy", "ttl");
                json.WriteNumber("duration_seconds", Seconds(ttl.Duration));
                WriteStrings(json, "env_keys", ttl.EnvKeys);
                break;
            case OnChangeCachePolicy onChange:
                json.WriteString("policy", "on_change");
                WriteStrings(json, "paths", onChange.Globs);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown cache policy.");
        }

        json.WriteEndObject();
    }

    private static void WriteEdge(Utf8JsonWriter json, int from, int to, string kind)
    {
        json.WriteStartArray();
        json.WriteNumberValue(from);
        json.WriteNumberValue(to);
        json.WriteStringValue(kind);
        json.WriteEndArray();
    }

    private static void WriteMap(Utf8JsonWriter json, string name, IEnumerable<KeyValuePair<string, string>> entries)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in entries)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static string Command(StepDefinition step) => step.ConstantCommand ?? step.Command();

    // v0 counts whole seconds and rejects 0; round a sub-second remainder up rather than shorten the limit.
    private static long Seconds(TimeSpan duration) => Math.Max(1, (long)Math.Ceiling(duration.TotalSeconds));

    private static string RunnerName(Runner runner) => runner.ToString().ToLowerInvariant();

    private static string ShellQuote(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-')
            ? text
            : "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
