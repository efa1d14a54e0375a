namespace Harmont.Aot.Generators.Model;

/// <summary>Everything the emitter needs for one pipeline class; free of symbols, syntax and locations.</summary>
/// <param name="HintName">Unique generated file name.</param>
/// <param name="Namespace">The class's namespace, or null for the global namespace.</param>
/// <param name="ContainingTypes">Enclosing type declarations, outermost first.</param>
/// <param name="Type">The pipeline class declaration itself.</param>
/// <param name="TypeExpression">Fully qualified reference to the class (<c>global::Ns.Ci</c>).</param>
internal sealed record PipelineSpec(
    string HintName,
    string? Namespace,
    EquatableArray<TypeDeclarationSpec> ContainingTypes,
    TypeDeclarationSpec Type,
    string TypeExpression,
    string Slug,
    string? DefaultImage,
    RunnerSpec Runner,
    DurationSpec? Timeout,
    string? Project,
    EquatableArray<EnvSpec> Env,
    EquatableArray<StepSpec> Steps);

/// <summary>One type declaration header as the user wrote it, so the emitted part matches it.</summary>
/// <param name="Modifiers">Modifier tokens in source order (<c>internal static partial</c>).</param>
/// <param name="Keyword">The declaration keyword (<c>class</c>, <c>struct</c>, <c>record struct</c>, ...).</param>
/// <param name="Name">The identifier as written, including any <c>@</c>.</param>
internal sealed record TypeDeclarationSpec(string Modifiers, string Keyword, string Name);

/// <summary>A <c>Harmont.Aot.Runner</c> (or <c>Network</c>) value: the member name when it names one, otherwise the raw number.</summary>
internal sealed record RunnerSpec(int Value, string? Member);

/// <summary>One step, resolved: graph references are step keys, not method names.</summary>
/// <param name="MethodName">Escaped method identifier used by the generated command delegate.</param>
/// <param name="ConstantCommand">The command when the compiler folds it to a constant.</param>
/// <param name="After">Ordering-only prerequisites, including those an AfterAll barrier implies.</param>
/// <param name="Env">The effective env: the pipeline's entries overlaid with the step's own.</param>
/// <param name="Secrets">The pipeline's and the step's secret names.</param>
/// <param name="DefinitionHash">The definition (docs/cache-keys.md) hash; null when the command is not constant.</param>
internal sealed record StepSpec(
    string MethodName,
    string Key,
    string Label,
    string? ConstantCommand,
    string? From,
    EquatableArray<string> After,
    string? Image,
    EquatableArray<EnvSpec> Env,
    EquatableArray<string> Secrets,
    string? Cwd,
    DurationSpec? Timeout,
    EquatableArray<CacheSpec> Cache,
    RunnerSpec Runner,
    string? DefinitionHash)
{
    /// <summary>Starts from its own previous output when it executes; not part of the definition.</summary>
    public bool Incremental { get; init; }

    /// <summary>Persistent directories mounted into the step; never part of the definition.</summary>
    public EquatableArray<CacheMountSpec> CacheMounts { get; init; }

    /// <summary>The step's <c>Network</c>; 0 (the default) is not emitted, so existing steps generate what they always did.</summary>
    public RunnerSpec Network { get; init; } = new(0, "Default");
}

/// <summary>One [CacheMount]: where it is mounted and, when given, the id steps share it by.</summary>
internal sealed record CacheMountSpec(string Path, string? Id);

/// <summary>A duration as the user wrote it and its length in ticks.</summary>
internal sealed record DurationSpec(string Text, long Ticks);

/// <summary>One cache policy attribute.</summary>
/// <param name="Kind">forever, ttl or on-change.</param>
/// <param name="Ttl">The bucket length of a ttl policy.</param>
/// <param name="Items">Env keys (forever, ttl) or globs (on-change).</param>
internal sealed record CacheSpec(string Kind, DurationSpec? Ttl, EquatableArray<string> Items)
{
    public const string KindForever = "forever";
    public const string KindTtl = "ttl";
    public const string KindOnChange = "on-change";
}

/// <summary>One <c>NAME=value</c> environment entry, split at the first '='.</summary>
internal sealed record EnvSpec(string Name, string Value);
