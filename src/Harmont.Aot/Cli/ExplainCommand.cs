using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary>
/// <c>explain [STEP]</c>: resolves every key against the working tree as a run would, and says per
/// step whether it would hit and, if not, which input changed since the last recorded run. Runs nothing.
/// </summary>
internal static class ExplainCommand
{
    // For each step that would hit and has a child: the source files the child would see over what the
    // cached steps had done to them (docs/workspaces.md), found by comparing the entry's manifest with the source now.
    private static async Task<List<string>> OverwrittenWarningsAsync(
        PipelineDefinition pipeline, CachePlan plan, CacheStore store, IEnumerable<string> hits, string root, string cacheRoot, CancellationToken cancellation)
    {
        var warnings = new List<string>();
        var parents = hits.Where(h => pipeline.Steps.Any(s => s.From == h)).ToList();
        if (!OperatingSystem.IsLinux() || parents.Count == 0)
        {
            return warnings;
        }

        var files = plan.SourceFiles ?? await SourceTree.ListAsync(root, cancellation);
        var hashes = plan.Hashes ?? new Keys.SourceHashes(root, files, Keys.FileHashMemo.Load(CachePlanning.MemoPath(cacheRoot)));
        var now = await hashes.ManifestAsync(files, cancellation);
        foreach (var step in parents)
        {
            if (store.ReadOutput(plan.Steps[step].Key!) is not { } output || !File.Exists(output.SourcesFile))
            {
                continue;
            }

            var then = SourceManifest.Read(output.SourcesFile);
            warnings.AddRange(OverwrittenSource.Find(output.Layers, then, SourceDelta.Compute(then, now)).Select(f => OverwrittenSource.Describe(step, f)));
        }

        return warnings;
    }

    internal static async Task<int> ExecuteAsync(
        IReadOnlyList<PipelineDefinition> pipelines, ExplainRequest request, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var (step, cancellation) = (request.Step, context.Cancellation);
        var root = SourceRepository.Resolve(request.Repo, context);
        var pipeline = IrSource.Choose(pipelines, request.Ir, request.Pipeline, root, context);
        if (step is not null && pipeline.Steps.All(s => s.Key != step))
        {
            throw new PipelineException(
                $"pipeline '{pipeline.Slug}' has no step '{step}'. Its steps: {string.Join(", ", pipeline.Steps.Select(s => s.Key))}.");
        }

        PipelineGraph.Build(pipeline);
        var directories = HarmontDirectories.FromEnvironment(context.GetEnv);
        var store = new CacheStore(directories.Cache, context.Clock);
        var plan = await CachePlanning.PlanAsync(pipeline, root, directories.Cache, context.GetEnv, context.Clock, cancellation);
        var previous = RunRecord.Load(RunRecord.PathFor(directories.Cache, plan.Project, pipeline.Slug));

        // "hit" here means a complete entry is in the store now; a run also checks a Docker entry's image.
        var outcomes = plan.Steps.Values
            .Where(p => p.Key is { } key && store.Contains(key))
            .ToDictionary(p => p.Step, _ => "hit", StringComparer.Ordinal);
        var current = RunRecord.From("now", context.Clock.GetUtcNow(), plan, outcomes);
        IEnumerable<string> order = step is null ? pipeline.Steps.Select(s => s.Key) : [step];
        await context.Out.WriteAsync(CacheExplainer.Describe(current, previous, order, plan.Project));
        foreach (var warning in await OverwrittenWarningsAsync(pipeline, plan, store, outcomes.Keys.Where(order.Contains), root, directories.Cache, cancellation))
        {
            await context.Out.WriteLineAsync($"warning: {warning}");
        }

        return ExitCodes.Passed;
    }
}

/// <summary>What <c>explain</c> was asked: a step (or all), the pipeline or IR document, and the repository.</summary>
internal sealed record ExplainRequest(string? Step, string? Pipeline, string? Ir, string? Repo);
