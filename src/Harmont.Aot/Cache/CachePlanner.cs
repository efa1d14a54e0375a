using System.Globalization;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cache;

/// <summary>
/// Resolves every step's cache key before anything runs (docs/cache-keys.md): policy resolution, the parent's
/// key, the definition hash. A cached step whose parent is not cached is not cached either. Keys
/// depend only on inputs, never on how this run goes, so all of them are known up front and a hit
/// can be decided before any workspace or container is prepared.
/// </summary>
internal static class CachePlanner
{
    /// <summary>Plans each step of <paramref name="pipeline"/>, parents before children.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="inputs">The project identity, environment, clock and source hashing.</param>
    /// <param name="cancellationToken">Stops hashing.</param>
    public static async Task<CachePlan> PlanAsync(PipelineDefinition pipeline, PlanInputs inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(inputs);
        var byKey = pipeline.Steps.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var plans = new Dictionary<string, StepPlan>(StringComparer.Ordinal);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);

        // Every onChange file of every step hashed in one parallel pass, before the steps are planned one by one.
        var onChange = pipeline.Steps
            .SelectMany(s => s.Cache.OfType<OnChangeCachePolicy>().SelectMany(p => p.Globs).Select(g => (s.Key, g)))
            .ToList();
        if (onChange.Count > 0)
        {
            await (await inputs.Sources(cancellationToken)).PrefetchAsync(onChange, cancellationToken);
        }

        async Task<StepPlan> PlanStepAsync(StepDefinition step)
        {
            if (plans.TryGetValue(step.Key, out var done))
            {
                return done;
            }

            var parent = step.From is { } from ? await PlanStepAsync(byKey[from]) : null;
            var plan = await PlanOneAsync(pipeline, step, parent, inputs, files, cancellationToken);
            plans[step.Key] = plan;
            return plan;
        }

        foreach (var step in pipeline.Steps)
        {
            await PlanStepAsync(step);
        }

        return new CachePlan(pipeline.Slug, inputs.Project, plans, files);
    }

    /// <summary>The ttl bucket: whole durations since the Unix epoch.</summary>
    internal static string Bucket(DateTimeOffset now, TimeSpan duration) =>
        ((now - DateTimeOffset.UnixEpoch).Ticks / duration.Ticks).ToString(CultureInfo.InvariantCulture);

    private static async Task<StepPlan> PlanOneAsync(
        PipelineDefinition pipeline, StepDefinition step, StepPlan? parent, PlanInputs inputs, Dictionary<string, string> files, CancellationToken cancellationToken)
    {
        var command = step.ConstantCommand ?? step.Command();
        var components = new SortedDictionary<string, string>(StringComparer.Ordinal);
        DescribeDefinition(pipeline, step, command, components);
        if (step.Cache.Count == 0)
        {
            return new StepPlan { Step = step.Key, Command = command, NotCachedReason = "it has no cache policy", Components = components };
        }

        components["policies"] = string.Join(" + ", step.Cache.Select(p => p.Describe()));
        if (parent is { IsCached: false })
        {
            return new StepPlan
            {
                Step = step.Key,
                Command = command,
                NotCachedReason = $"its parent '{parent.Step}' is not cached ({parent.NotCachedReason}), so the state it starts from can differ every run",
                Components = components,
            };
        }

        var globs = new List<string>();
        var parts = new List<string>();
        foreach (var policy in step.Cache)
        {
            parts.Add(await ResolveAsync(step.Key, policy, inputs, components, globs, files, cancellationToken));
        }

        var resolution = parts.Count == 1 ? parts[0] : "compose-" + CacheKey.Hash([.. parts]);
        var definition = step.DefinitionHash ?? StepDefinitionHash.Compute(pipeline, step, command);
        var key = new CacheKey(inputs.Project, pipeline.Slug, step.Key, parent?.Key, definition, resolution);
        components["project"] = inputs.Project;
        components["pipeline"] = pipeline.Slug;
        components["step"] = step.Key;
        components["parent"] = parent?.Key ?? "scratch";
        components["definition"] = definition;
        components["policy"] = resolution;
        return new StepPlan
        {
            Step = step.Key,
            Command = command,
            Key = key.Value,
            Components = components,
            Globs = globs,
        };
    }

    private static async Task<string> ResolveAsync(
        string stepKey,
        CachePolicy policy,
        PlanInputs inputs,
        SortedDictionary<string, string> components,
        List<string> globs,
        Dictionary<string, string> files,
        CancellationToken cancellationToken)
    {
        switch (policy)
        {
            case ForeverCachePolicy forever:
                return "forever-" + EnvHash(forever.EnvKeys, "forever", inputs, components);
            case TtlCachePolicy ttl:
                var bucket = Bucket(inputs.Clock.GetUtcNow(), ttl.Duration);
                components[$"ttl.bucket.{DurationNotation.Format(ttl.Duration)}"] = bucket;
                return $"ttl-{bucket}-" + EnvHash(ttl.EnvKeys, "ttl", inputs, components);
            case OnChangeCachePolicy onChange:
                var hashes = await inputs.Sources(cancellationToken);
                var resolved = await hashes.ResolveAsync(stepKey, onChange.Globs, cancellationToken);
                foreach (var (path, sha) in resolved.Files)
                {
                    files[path] = sha;
                }

                globs.AddRange(onChange.Globs);
                components[$"onchange.{string.Join(",", onChange.Globs)}"] = resolved.Resolution;
                return resolved.Resolution;
            default:
                throw new PipelineException($"step '{stepKey}': cache policy {policy.GetType().Name} is not known to this runner.");
        }
    }

    // H(sorted NAME=value␀). An unset variable is NAME␀ (no '='), so unset and empty differ. Only
    // hashes are recorded: an env key may name a secret.
    private static string EnvHash(IReadOnlyList<string> names, string policy, PlanInputs inputs, SortedDictionary<string, string> components)
    {
        var entries = new List<string>();
        foreach (var name in names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var entry = inputs.GetEnv(name) is { } value ? $"{name}={value}" : name;
            entries.Add(entry);
            components[$"{policy}.env.{name}"] = CacheKey.Sha256Hex(entry);
        }

        return CacheKey.Hash([.. entries]);
    }

    // The definition's parts, one component each, so explain can say which of them changed.
    private static void DescribeDefinition(PipelineDefinition pipeline, StepDefinition step, string command, SortedDictionary<string, string> components)
    {
        components["command"] = CacheKey.Sha256Hex(command);
        if (step.From is { } from)
        {
            components["from"] = from; // Not a key input (the parent's key is); lets explain name the parent.
        }
        else
        {
            components["image"] = step.Image ?? pipeline.DefaultImage ?? "";
        }

        foreach (var (name, value) in step.Env)
        {
            components[$"env.{name}"] = CacheKey.Sha256Hex(value);
        }

        components["cwd"] = step.Cwd ?? "";
        components["runner"] = StepDefinitionHash.RunnerName(step.Runner == Runner.Inherit ? pipeline.Runner : step.Runner);
        components["secrets"] = string.Join(",", step.Secrets.Order(StringComparer.Ordinal));
    }
}

/// <summary>What planning reads from outside the pipeline.</summary>
/// <param name="Project">The key's project component (<see cref="ProjectIdentity"/>).</param>
/// <param name="GetEnv">The runner's environment, for env keys.</param>
/// <param name="Clock">Now, for ttl buckets.</param>
/// <param name="Sources">The run's source hashing, created on first use (only onChange needs it).</param>
internal sealed record PlanInputs(string Project, Func<string, string?> GetEnv, TimeProvider Clock, Func<CancellationToken, Task<SourceHashes>> Sources);

/// <summary>Every step's plan, and the hashes of every file an onChange glob matched.</summary>
internal sealed record CachePlan(string Pipeline, string Project, IReadOnlyDictionary<string, StepPlan> Steps, IReadOnlyDictionary<string, string> Files)
{
    /// <summary>The source listing the onChange keys were computed from, when one was made; the run's snapshot reuses it.</summary>
    public IReadOnlyList<string>? SourceFiles { get; init; }

    /// <summary>The hashes planning computed over <see cref="SourceFiles"/>, memoised; source manifests reuse them.</summary>
    public SourceHashes? Hashes { get; init; }

    public StepPlan this[string step] => Steps[step];
}
