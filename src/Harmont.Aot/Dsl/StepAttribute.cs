namespace Harmont.Aot;

/// <summary>Marks a static method returning the step's shell command.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class StepAttribute : Attribute
{
    /// <summary>
    /// The parent step (use <c>nameof</c>): this step starts from the parent's committed
    /// system state and its output workspace. Roots leave it unset.
    /// </summary>
    public string? From { get; set; }

    /// <summary>Steps that must finish first; ordering only, no state is carried.</summary>
    public string[]? After { get; set; }

    /// <summary>
    /// A wait barrier: this step starts only after every step declared above it in the class has
    /// finished. Ordering only, like <see cref="After"/>.
    /// </summary>
    public bool AfterAll { get; set; }

    /// <summary>Image for a root step. Children inherit their parent's snapshot instead.</summary>
    public string? Image { get; set; }

    /// <summary>Stable key of the step; defaults to the method name in kebab-case.</summary>
    public string? Key { get; set; }

    /// <summary>Display name; defaults to the method name.</summary>
    public string? Label { get; set; }

    /// <summary>Longest the command may run, e.g. <c>"90s"</c>, <c>"15m"</c>, <c>"1h30m"</c>; past it the step is TimedOut (exit 124).</summary>
    public string? Timeout { get; set; }

    /// <summary>Directory to run the command in, relative to the workspace root (<c>"src/app"</c>).</summary>
    public string? Cwd { get; set; }

    /// <summary>Where this step runs; overrides the pipeline's runner.</summary>
    public Runner Runner { get; set; } = Runner.Inherit;

    /// <summary>
    /// When the step executes, it starts from its own previous output (plus the source changed since) instead of
    /// its parent's, so <c>make</c> or <c>cargo</c> rebuild only what changed. Only as correct as the tool's own
    /// incremental build; <c>--no-incremental</c> forces a clean run. Not part of the cache key.
    /// </summary>
    public bool Incremental { get; set; }

    /// <summary>The network of the step's container (Docker steps only); <see cref="Network.Default"/> is the engine's bridge.</summary>
    public Network Network { get; set; } = Network.Default;
}
