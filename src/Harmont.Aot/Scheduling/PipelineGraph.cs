using Harmont.Aot.Model;

namespace Harmont.Aot.Scheduling;

/// <summary>
/// A validated step DAG. The generator already rejects these mistakes at compile time; this check
/// is for definitions that come from elsewhere (IR documents, hand-built definitions).
/// </summary>
internal sealed class PipelineGraph
{
    private readonly Dictionary<string, StepDefinition> _byKey;
    private readonly Dictionary<string, List<string>> _children;

    private PipelineGraph(PipelineDefinition pipeline, Dictionary<string, StepDefinition> byKey, Dictionary<string, List<string>> children)
    {
        Pipeline = pipeline;
        _byKey = byKey;
        _children = children;
    }

    public PipelineDefinition Pipeline { get; }

    public IReadOnlyList<StepDefinition> Steps => Pipeline.Steps;

    public StepDefinition this[string key] => _byKey[key];

    /// <summary>Steps that start from <paramref name="key"/>'s snapshot and workspace.</summary>
    public IReadOnlyList<string> ChildrenOf(string key) => _children.TryGetValue(key, out var list) ? list : [];

    /// <summary>Everything a step waits for: its parent and its ordering-only dependencies.</summary>
    public static IEnumerable<string> Prerequisites(StepDefinition step) =>
        step.From is null ? step.After : step.After.Prepend(step.From);

    public static PipelineGraph Build(PipelineDefinition pipeline)
    {
        var byKey = new Dictionary<string, StepDefinition>(StringComparer.Ordinal);
        foreach (var step in pipeline.Steps)
        {
            if (string.IsNullOrWhiteSpace(step.Key))
            {
                throw new PipelineException($"pipeline '{pipeline.Slug}': a step has an empty key. Give every step a key.");
            }

            if (!byKey.TryAdd(step.Key, step))
            {
                throw new PipelineException($"pipeline '{pipeline.Slug}': two steps have the key '{step.Key}'. Step keys must be unique; rename one.");
            }

            if (step.CacheMounts.Select(m => m.Problem(step.Key)).FirstOrDefault(p => p is not null) is { } mountProblem)
            {
                throw new PipelineException(mountProblem);
            }
        }

        var children = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var step in pipeline.Steps)
        {
            if (step.From == step.Key)
            {
                throw new PipelineException($"pipeline '{pipeline.Slug}': step '{step.Key}' builds in itself. Point From at another step or remove it.");
            }

            foreach (var prerequisite in Prerequisites(step))
            {
                if (!byKey.ContainsKey(prerequisite))
                {
                    throw new PipelineException(
                        $"pipeline '{pipeline.Slug}': step '{step.Key}' depends on '{prerequisite}', which is not a step of this pipeline. " +
                        $"Known steps: {string.Join(", ", byKey.Keys)}.");
                }
            }

            if (step.From is not null)
            {
                if (!children.TryGetValue(step.From, out var list))
                {
                    children[step.From] = list = [];
                }

                list.Add(step.Key);
            }
        }

        ThrowOnCycle(pipeline, byKey);
        return new PipelineGraph(pipeline, byKey, children);
    }

    private static void ThrowOnCycle(PipelineDefinition pipeline, Dictionary<string, StepDefinition> byKey)
    {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();

        void Visit(string key)
        {
            state[key] = 1;
            path.Add(key);
            foreach (var next in Prerequisites(byKey[key]))
            {
                var seen = state.GetValueOrDefault(next);
                if (seen == 1)
                {
                    var cycle = path.Skip(path.IndexOf(next)).Append(next);
                    throw new PipelineException(
                        $"pipeline '{pipeline.Slug}': steps form a cycle: {string.Join(" → ", cycle)}. Remove one of these dependencies.");
                }

                if (seen == 0)
                {
                    Visit(next);
                }
            }

            path.RemoveAt(path.Count - 1);
            state[key] = 2;
        }

        foreach (var key in byKey.Keys)
        {
            if (state.GetValueOrDefault(key) == 0)
            {
                Visit(key);
            }
        }
    }
}
