using Harmont.Aot.Model;

namespace Harmont.Aot.Cli;

/// <summary><c>list</c>: the pipelines of this program and their steps.</summary>
internal static class ListCommand
{
    internal static void Write(IReadOnlyList<PipelineDefinition> pipelines, TextWriter output)
    {
        foreach (var pipeline in pipelines)
        {
            var image = pipeline.DefaultImage is null ? "" : $", image {pipeline.DefaultImage}";
            var timeout = pipeline.Timeout is { } limit ? $", timeout {DurationNotation.Format(limit)}" : "";
            output.WriteLine($"{pipeline.Slug} (runner {pipeline.Runner.ToString().ToLowerInvariant()}{image}{timeout})");
            var width = pipeline.Steps.Max(s => (int?)s.Key.Length) ?? 0;
            foreach (var step in pipeline.Steps)
            {
                var relations = new List<string>();
                if (step.From is not null)
                {
                    relations.Add($"from {step.From}");
                }

                if (step.After.Count > 0)
                {
                    relations.Add($"after {string.Join(", ", step.After)}");
                }

                if (step.Runner != Runner.Inherit)
                {
                    relations.Add($"runner {step.Runner.ToString().ToLowerInvariant()}");
                }

                if (step.Cache.Count > 0)
                {
                    relations.Add($"cache {GraphCommand.CacheText(step.Cache)}");
                }

                if (step.Timeout is { } stepTimeout)
                {
                    relations.Add($"timeout {DurationNotation.Format(stepTimeout)}");
                }

                output.WriteLine($"  {step.Key.PadRight(width)}  {string.Join("; ", relations)}".TrimEnd());
            }
        }
    }
}
