namespace Harmont.Aot.Model;

/// <summary>A pipeline as the generator (or an IR document) describes it.</summary>
public sealed class PipelineDefinition
{
    /// <summary>The pipeline's name on the command line.</summary>
    public required string Slug { get; init; }

    /// <summary>Image for root steps that set none.</summary>
    public string? DefaultImage { get; init; }

    /// <summary>Default backend for the pipeline's steps.</summary>
    public Runner Runner { get; init; } = Runner.Auto;

    /// <summary>Longest the whole run may take; past it running steps are TimedOut (exit 124). Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The pipeline's own [Env] entries, for display; each step's <see cref="StepDefinition.Env"/> already includes them.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>What keeps this pipeline's cache entries apart from other repositories' (<c>project</c> in docs/cache-keys.md); null: derived from the repository.</summary>
    public string? Project { get; init; }

    /// <summary>The steps, in declaration order.</summary>
    public required IReadOnlyList<StepDefinition> Steps { get; init; }
}
