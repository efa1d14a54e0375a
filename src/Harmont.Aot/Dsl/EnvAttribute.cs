namespace Harmont.Aot;

/// <summary>Sets an environment variable (<c>NAME=value</c>) for a step, or on the pipeline class for every step.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class EnvAttribute(string assignment) : Attribute
{
    /// <summary>The <c>NAME=value</c> text.</summary>
    public string Assignment { get; } = assignment;
}
