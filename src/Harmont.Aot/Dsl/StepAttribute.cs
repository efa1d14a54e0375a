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

    /// <summary>Image for a root step. Children inherit their parent's snapshot instead.</summary>
    public string? Image { get; set; }

    /// <summary>Stable key of the step; defaults to the method name in kebab-case.</summary>
    public string? Key { get; set; }

    /// <summary>Display name; defaults to the method name.</summary>
    public string? Label { get; set; }

    /// <summary>Where this step runs; overrides the pipeline's runner.</summary>
    public Runner Runner { get; set; } = Runner.Inherit;
}
