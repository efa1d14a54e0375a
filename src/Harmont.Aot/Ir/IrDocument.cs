using System.Text.Json;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Ir;

/// <summary>
/// Reads a Harmont v0 IR document into a <see cref="PipelineDefinition"/>: the graph form
/// (<c>graph.nodes</c>/<c>graph.edges</c>, as <c>render</c> and harmont-cli write it) or the steps-list form
/// harmont-py's <c>pipeline_to_json</c> writes (<c>steps</c> of <c>type: command|wait</c>), with the meaning
/// harmont-py gives it.
/// </summary>
/// <remarks>
/// A field this runner cannot honour is an error naming it, never dropped. A rendered <c>cache.key</c> is not
/// used: every key is derived at run time. <c>on_change</c> entries are paths (<see cref="OnChangePaths"/>).
/// The pipeline's name is <see cref="IrReadOptions.Name"/>, else the document's <c>slug</c>, else
/// <c>default</c> (harmont-py's own default slug), never the file name: renaming the file keeps its history.
/// </remarks>
internal static class IrDocument
{
    /// <summary>The pipeline name of a document that names none and was given none.</summary>
    public const string DefaultSlug = "default";

    // Far beyond any real pipeline, and shallow enough for the graph checks' recursion.
    private const int MostSteps = 10_000;

    /// <summary>Reads and validates the document at <paramref name="path"/>.</summary>
    /// <exception cref="PipelineException">The file is unreadable or malformed; the message names the field and the fix.</exception>
    public static PipelineDefinition Load(string path, IrReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new PipelineException($"cannot read the IR document '{path}': {ex.Message} Check the path given to --ir.", ex);
        }

        return Parse(json, Path.GetFileName(path), options);
    }

    /// <summary>Reads a document's text; <paramref name="source"/> names it in errors.</summary>
    public static PipelineDefinition Parse(string json, string source, IrReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(options);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new PipelineException(
                $"{source}: not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {IrField.Printable(ex.Message, 400)} Fix the syntax, or re-render the document.", ex);
        }

        using (document)
        {
            var root = new IrField(source, "", document.RootElement);
            if (!root.IsObject)
            {
                throw new PipelineException($"{source}: the document must be a JSON object with \"version\": \"0\" and \"graph\" or \"steps\", not {root.Describe()}.");
            }

            root.RequireOnly("a v0 IR document", "version", "slug", "default_image", "timeout_seconds", "env", "runner", "graph", "steps");
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

            // Read even when the caller names the pipeline: a malformed field is an error wherever it is.
            var slug = ReadSlug(root.Property("slug"));
            var header = new IrHeader(
                options.Name ?? slug ?? DefaultSlug,
                root.Property("default_image").OptionalString("name an image such as \"alpine:3.20\", or remove the field"),
                root.Property("timeout_seconds").OptionalSeconds("give the whole run a positive number of seconds, or remove the field", IrField.LongestTimeoutSeconds),
                root.Property("env").OptionalStringMap("write the pipeline env as an object of string values, e.g. {\"CI\": \"true\"}"),
                IrStep.ReadRunner(root.Property("runner")) ?? Runner.Auto,
                options.SourceRoot);

            var pipeline = hasGraph ? GraphForm.Read(root.Property("graph"), header) : StepsForm.Read(root.Property("steps"), header);
            if (pipeline.Steps.Count > MostSteps)
            {
                throw new PipelineException($"{source}: the document has {pipeline.Steps.Count} steps, more than the {MostSteps} this runner takes; split the pipeline.");
            }

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

    private static string? ReadSlug(IrField slug)
    {
        var text = slug.OptionalString("give the pipeline a slug, or remove the field to name it with --pipeline");
        return text is null || !text.Any(char.IsControl)
            ? text
            : throw slug.Error($"is \"{IrField.Printable(text)}\", which has a control character", "give the pipeline a slug of printable characters");
    }
}

/// <summary>What reading an IR document needs from outside it.</summary>
/// <param name="SourceRoot">The repository root that <c>on_change</c> paths are relative to.</param>
/// <param name="Name">The pipeline's name when the caller gives one (<c>--pipeline</c>); it replaces the document's <c>slug</c>.</param>
internal sealed record IrReadOptions(string SourceRoot, string? Name = null);

/// <summary>The pipeline-level fields both forms share, and where the document's paths are resolved.</summary>
internal sealed record IrHeader(
    string Slug, string? DefaultImage, TimeSpan? Timeout, List<KeyValuePair<string, string>> Env, Runner Runner, string SourceRoot)
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
