namespace Harmont.Aot;

/// <summary>
/// Passes the secret <paramref name="name"/> to a step (or, on the pipeline class, to every step) as
/// an environment variable of that name. Its value comes from the runner's environment when the step
/// starts; it never enters a cache key and is masked in logs.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class SecretAttribute(string name) : Attribute
{
    /// <summary>The environment variable name, e.g. <c>NPM_TOKEN</c>.</summary>
    public string Name { get; } = name;
}
