using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators;

/// <summary>Every diagnostic the pipeline generator reports. IDs are stable: never renumber or reuse one.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Harmont";

    /// <summary>Location: the From argument or After element that closes the cycle.</summary>
    public static readonly DiagnosticDescriptor StepCycle = new(
        id: "HM0001",
        title: "Steps depend on each other in a cycle",
        messageFormat: "Steps of pipeline '{0}' depend on each other in a cycle: {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A step waits for its From parent and its After steps; the graph must be acyclic.");

    /// <summary>Location: the From argument, or the After element, that names the missing step.</summary>
    public static readonly DiagnosticDescriptor UnknownStep = new(
        id: "HM0002",
        title: "Reference to an unknown step",
        messageFormat: "'{0}' is not a step of pipeline '{1}'; From and After take the name of a [Step] method in the same class (use nameof)",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the second step's Key argument, or its [Step] attribute when the key is derived.</summary>
    public static readonly DiagnosticDescriptor DuplicateStepKey = new(
        id: "HM0003",
        title: "Duplicate step key",
        messageFormat: "Step '{0}' has the key '{1}', which step '{2}' already uses in pipeline '{3}'; set a different Key",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the slug argument of the second [Pipeline] attribute.</summary>
    public static readonly DiagnosticDescriptor DuplicatePipelineSlug = new(
        id: "HM0004",
        title: "Duplicate pipeline slug",
        messageFormat: "Another pipeline in this compilation already uses the slug '{0}'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the step method's identifier.</summary>
    public static readonly DiagnosticDescriptor InvalidStepMethod = new(
        id: "HM0005",
        title: "Step method has the wrong shape",
        messageFormat: "Step method '{0}' must be a static, non-generic method with no parameters that returns string; it {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the From argument.</summary>
    public static readonly DiagnosticDescriptor StepFromItself = new(
        id: "HM0006",
        title: "Step builds from itself",
        messageFormat: "Step '{0}' names itself in From; point From at another step or remove it",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the Image argument.</summary>
    public static readonly DiagnosticDescriptor ImageOnChildStep = new(
        id: "HM0007",
        title: "Image on a child step has no effect",
        messageFormat: "Step '{0}' sets Image but builds from '{1}'; a child starts from its parent's snapshot, so the image is ignored",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    /// <summary>Location: the identifier of the class (pipeline or containing type) that has the wrong shape.</summary>
    public static readonly DiagnosticDescriptor InvalidPipelineClass = new(
        id: "HM0008",
        title: "Pipeline class has the wrong shape",
        messageFormat: "'{0}' must be {1} so that the generator can add the pipeline's Definition",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the argument of the [Env] attribute.</summary>
    public static readonly DiagnosticDescriptor MalformedEnv = new(
        id: "HM0009",
        title: "Malformed environment assignment",
        messageFormat: "Env \"{0}\" is not of the form NAME=value with a non-empty NAME",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the duration argument of the [CacheTtl] attribute.</summary>
    public static readonly DiagnosticDescriptor InvalidTtl = new(
        id: "HM0010",
        title: "Cache TTL is not a positive duration",
        messageFormat: "CacheTtl \"{0}\" {1}; write a positive duration such as \"30m\", \"12h\" or \"7d\"",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the glob argument of the [CacheOnChange] attribute.</summary>
    public static readonly DiagnosticDescriptor InvalidGlob = new(
        id: "HM0011",
        title: "Empty or malformed glob",
        messageFormat: "CacheOnChange glob \"{0}\" {1}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the env key argument of the cache attribute, or the [Env] argument, that names the secret.</summary>
    public static readonly DiagnosticDescriptor SecretAlsoInEnv = new(
        id: "HM0012",
        title: "Secret also listed as an env key or env variable",
        messageFormat: "'{0}' is a secret of {1} and is also {2}",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A secret's value must never enter a cache key or appear in the clear.");

    /// <summary>Location: the Timeout argument of [Step] or [Pipeline].</summary>
    public static readonly DiagnosticDescriptor InvalidTimeout = new(
        id: "HM0013",
        title: "Timeout is not a positive duration",
        messageFormat: "Timeout \"{0}\" {1}; write a positive duration such as \"90s\", \"15m\" or \"1h\"",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the Cwd argument of [Step].</summary>
    public static readonly DiagnosticDescriptor InvalidCwd = new(
        id: "HM0014",
        title: "Working directory is outside the workspace",
        messageFormat: "Cwd \"{0}\" {1}; give a directory relative to the workspace root, such as \"src/app\"",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>Location: the [Secret] argument or the cache attribute's env key argument.</summary>
    public static readonly DiagnosticDescriptor InvalidVariableName = new(
        id: "HM0015",
        title: "Not an environment variable name",
        messageFormat: "\"{0}\" is not an environment variable name; use letters, digits and '_', not starting with a digit",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
