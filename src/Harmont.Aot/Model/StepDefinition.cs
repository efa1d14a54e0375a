using System.ComponentModel;

namespace Harmont.Aot.Model;

/// <summary>One step of a pipeline: its command, its place in the graph and its settings.</summary>
public sealed class StepDefinition
{
    /// <summary>Stable key, unique in the pipeline.</summary>
    public required string Key { get; init; }

    /// <summary>Display name.</summary>
    public required string Label { get; init; }

    /// <summary>Produces the shell command. Called once per run, so non-constant commands work.</summary>
    public required Func<string> Command { get; init; }

    /// <summary>The command when the compiler could fold it to a constant; null otherwise. Set by the generator.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? ConstantCommand { get; init; }

    /// <summary>Key of the parent whose snapshot and workspace this step starts from.</summary>
    public string? From { get; init; }

    /// <summary>Keys of steps that must finish first, without carrying state.</summary>
    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary>Image of a root step.</summary>
    public string? Image { get; init; }

    /// <summary>
    /// The step's effective environment: the pipeline's [Env] entries, then the step's own, a later
    /// entry replacing an earlier one of the same name. In order of first declaration.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>
    /// Names of secrets the command receives as environment variables of the same name. Their values
    /// are read from the runner's own process environment when the step starts; they are never part
    /// of a cache key, never printed and masked in logs. Includes the pipeline's [Secret] names.
    /// </summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>
    /// Directory the command runs in, relative to the workspace root (<c>/workspace</c> in a container);
    /// null runs it in the root. Never absolute and never outside the workspace.
    /// </summary>
    public string? Cwd { get; init; }

    /// <summary>Cache policies; empty means never cached. Several compose: the step is a hit only if every policy hits.</summary>
    public IReadOnlyList<CachePolicy> Cache { get; init; } = [];

    /// <summary>
    /// The <c>definition</c> (docs/cache-keys.md) hash, computed by the generator when the command is a constant;
    /// null otherwise, and the runner computes the same value at run time.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public string? DefinitionHash { get; init; }

    /// <summary>Backend override; <see cref="Runner.Inherit"/> takes the pipeline's.</summary>
    public Runner Runner { get; init; } = Runner.Inherit;

    /// <summary>The network of the step's container; the host backend runs every step in the host's network.</summary>
    public Network Network { get; init; } = Network.Default;

    /// <summary>Longest the command may run; past it the step is TimedOut (exit 124). Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// When it executes, the step starts from its own previous output plus the source changed since, rather than
    /// its parent's output (docs/workspaces.md). Not part of the key.
    /// </summary>
    public bool Incremental { get; init; }

    /// <summary>Persistent directories mounted into the step; never part of its key or its cache entry.</summary>
    public IReadOnlyList<CacheMount> CacheMounts { get; init; } = [];
}
