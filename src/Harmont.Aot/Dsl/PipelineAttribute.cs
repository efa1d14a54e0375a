namespace Harmont.Aot;

/// <summary>Marks a static partial class whose static step methods form one pipeline.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class PipelineAttribute(string slug) : Attribute
{
    /// <summary>The pipeline's name on the command line (<c>run ci</c>).</summary>
    public string Slug { get; } = slug;

    /// <summary>Image for root steps that set none.</summary>
    public string? DefaultImage { get; set; }

    /// <summary>Where steps run unless a step says otherwise.</summary>
    public Runner Runner { get; set; } = Runner.Auto;

    /// <summary>Longest the whole run may take, e.g. <c>"1h"</c>; past it running steps are TimedOut (exit 124).</summary>
    public string? Timeout { get; set; }

    /// <summary>Name that keeps this pipeline's cache entries apart from other repositories'; defaults to the origin remote URL.</summary>
    public string? Project { get; set; }
}
