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

    /// <summary>The command when the compiler could fold it to a constant; null otherwise.</summary>
    public string? ConstantCommand { get; init; }

    /// <summary>Key of the parent whose snapshot and workspace this step starts from.</summary>
    public string? From { get; init; }

    /// <summary>Keys of steps that must finish first, without carrying state.</summary>
    public IReadOnlyList<string> After { get; init; } = [];

    /// <summary>Image of a root step.</summary>
    public string? Image { get; init; }

    /// <summary>Environment, in declaration order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>Backend override; <see cref="Runner.Inherit"/> takes the pipeline's.</summary>
    public Runner Runner { get; init; } = Runner.Inherit;

    /// <summary>Longest the command may run; past it the step is TimedOut (exit 124). Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }
}
