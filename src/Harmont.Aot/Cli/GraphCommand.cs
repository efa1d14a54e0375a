using System.Text;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary><c>graph [pipeline]</c>: prints a pipeline as a Mermaid flowchart.</summary>
internal static class GraphCommand
{
    public static int Execute(IReadOnlyList<PipelineDefinition> pipelines, string? slug, CliContext context)
    {
        context.Out.Write(Mermaid(RunCommand.Select(pipelines, slug)));
        return ExitCodes.Passed;
    }

    /// <summary>
    /// One node per step, labelled with its key and its cache policies; <c>--&gt;</c> for lineage
    /// (builds in), <c>-.-&gt;</c> for ordering-only dependencies. Node ids are positional, so any key is safe.
    /// </summary>
    internal static string Mermaid(PipelineDefinition pipeline)
    {
        var ids = pipeline.Steps.Select((s, i) => (s.Key, Id: $"s{i}")).ToDictionary(p => p.Key, p => p.Id, StringComparer.Ordinal);
        var text = new StringBuilder();
        text.Append("%% pipeline ").Append(pipeline.Slug).Append('\n');
        text.Append("flowchart TD\n");
        foreach (var step in pipeline.Steps)
        {
            var label = Escape(step.Key);
            if (step.Cache.Count > 0)
            {
                label += "<br/>cache: " + Escape(CacheText(step.Cache));
            }

            text.Append("    ").Append(ids[step.Key]).Append("[\"").Append(label).Append("\"]\n");
        }

        foreach (var step in pipeline.Steps)
        {
            if (step.From is { } parent && ids.TryGetValue(parent, out var from))
            {
                text.Append("    ").Append(from).Append(" --> ").Append(ids[step.Key]).Append('\n');
            }

            foreach (var prerequisite in step.After)
            {
                if (ids.TryGetValue(prerequisite, out var before))
                {
                    text.Append("    ").Append(before).Append(" -.-> ").Append(ids[step.Key]).Append('\n');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The policies as <c>list</c> and <c>graph</c> show them: joined with " + ", since every one must hit.</summary>
    internal static string CacheText(IReadOnlyList<CachePolicy> policies) => string.Join(" + ", policies.Select(p => p.Describe()));

    // Mermaid entity codes keep quotes and angle brackets in a label from ending it or reading as HTML.
    private static string Escape(string text) => text
        .Replace("#", "#35;", StringComparison.Ordinal)
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal)
        .Replace(">", "#gt;", StringComparison.Ordinal);
}
