using System.Text.Json;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Ir;

/// <summary>
/// Reads a Harmont v0 IR document into a <see cref="PipelineDefinition"/>: the graph form
/// (<c>graph.nodes</c>/<c>graph.edges</c>, as <c>render</c> and harmont-cli write it) or the steps-list form
/// harmont-py's <c>pipeline_to_json</c> writes (<c>steps</c> of <c>type: command|wait</c>).
/// </summary>
/// <remarks>
/// A <c>wait</c> step is a barrier: every command after it depends on the commands between it and the
/// previous barrier. A precomputed <c>cache.key</c> becomes <see cref="StepDefinition.CacheKey"/>.
/// The pipeline's slug is the top-level <c>slug</c> when present, else the file name without extension.
/// </remarks>
public static class IrDocument
{
    /// <summary>Reads and validates the document at <paramref name="path"/>.</summary>
    /// <exception cref="PipelineException">The file is unreadable or malformed; the message names the field and the fix.</exception>
    public static PipelineDefinition Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PipelineException($"cannot read the IR document '{path}': {ex.Message}. Check the path given to --ir.", ex);
        }

        var name = Path.GetFileName(path);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return Parse(json, name, dot > 0 ? name[..dot] : name);
    }

    /// <summary>Reads a document's text; <paramref name="source"/> names it in errors and <paramref name="defaultSlug"/> is used when it has no <c>slug</c>.</summary>
    public static PipelineDefinition Parse(string json, string source, string defaultSlug)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new PipelineException(
                $"{source}: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message} Fix the syntax, or re-render the document.", ex);
        }

        using (document)
        {
            var root = new IrField(source, "", document.RootElement);
            if (!root.IsObject)
            {
                throw new PipelineException($"{source}: the document must be a JSON object with \"version\": \"0\" and \"graph\" or \"steps\", not {root.Describe()}.");
            }

            var version = root.Property("version");
            if (!version.IsMissing && !(version.Value.ValueKind == JsonValueKind.String && version.Value.GetString() == "0"))
            {
                throw version.Error($"is {version.Describe()}", "this runner reads Harmont v0 IR; set \"version\": \"0\" or re-render the document with a v0 renderer");
            }

            var hasGraph = !root.Property("graph").IsMissing;
            var hasSteps = !root.Property("steps").IsMissing;
            if (hasGraph == hasSteps)
            {
                throw new PipelineException(hasGraph
                    ? $"{source}: the document has both \"graph\" and \"steps\"; keep one: \"graph\" (nodes and edges) or \"steps\" (harmont-py's list)."
                    : $"{source}: the document has neither \"graph\" nor \"steps\"; a v0 IR document holds its steps in one of them.");
            }

            var header = new IrHeader(
                root.Property("slug").OptionalString("give the pipeline a slug, or remove the field to use the file name") ?? defaultSlug,
                root.Property("default_image").OptionalString("name an image such as \"alpine:3.20\", or remove the field"),
                root.Property("timeout_seconds").OptionalSeconds("give the whole run a positive number of seconds, or remove the field"),
                root.Property("env").OptionalStringMap("write the pipeline env as an object of string values, e.g. {\"CI\": \"true\"}"),
                IrStep.ReadRunner(root.Property("runner")) ?? Runner.Auto);

            var pipeline = hasGraph ? GraphForm.Read(root.Property("graph"), header) : StepsForm.Read(root.Property("steps"), header);
            try
            {
                PipelineGraph.Build(pipeline);
            }
            catch (PipelineException ex)
            {
                throw new PipelineException($"{source}: {ex.Message}", ex);
            }

            return pipeline;
        }
    }
}

/// <summary>The pipeline-level fields both forms share.</summary>
internal sealed record IrHeader(string Slug, string? DefaultImage, TimeSpan? Timeout, List<KeyValuePair<string, string>> Env, Runner Runner)
{
    public PipelineDefinition Pipeline(IReadOnlyList<StepDefinition> steps) => new()
    {
        Slug = Slug,
        DefaultImage = DefaultImage,
        Timeout = Timeout,
        Env = Env,
        Runner = Runner,
        Steps = steps,
    };
}
