using System.Collections.Generic;
using Harmont.Aot.Generators.Model;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>
/// A step as read from its method, before graph references are resolved. It lives only inside
/// one parse, so it may carry locations and plain lists; the cached model (<see cref="StepSpec"/>) does not.
/// </summary>
/// <param name="KeyLocation">The Key argument when given, else the [Step] attribute: where HM0003 points.</param>
/// <param name="AfterAll">The AfterAll argument when it is true: a barrier on every step declared above.</param>
/// <param name="Env">The step's own [Env] entries.</param>
/// <param name="Secrets">The step's own [Secret] names.</param>
/// <param name="CacheEnvKeys">Every env key of the step's cache policies, where HM0012 points.</param>
internal sealed record StepDraft(
    string MethodName,
    string Key,
    LocationInfo? KeyLocation,
    string Label,
    string? ConstantCommand,
    StepReference? From,
    IReadOnlyList<StepReference> After,
    Site? AfterAll,
    string? Image,
    IReadOnlyList<EnvDraft> Env,
    IReadOnlyList<Site> Secrets,
    string? Cwd,
    DurationSpec? Timeout,
    IReadOnlyList<CacheSpec> Cache,
    IReadOnlyList<Site> CacheEnvKeys,
    RunnerSpec Runner,
    RunnerSpec Network)
{
    /// <summary>[Step(Incremental = true)]: start from its own previous output when it executes.</summary>
    public bool Incremental { get; init; }

    /// <summary>The step's [CacheMount] directories, in declaration order.</summary>
    public IReadOnlyList<CacheMountSpec> CacheMounts { get; init; } = [];
}

/// <summary>A From or After value (a step method's name, null if written as null) and the expression that wrote it.</summary>
internal sealed record StepReference(string? MethodName, LocationInfo? Location);

/// <summary>A name and where it was written.</summary>
internal sealed record Site(string Name, LocationInfo? Location);

/// <summary>An [Env] entry and its argument's location.</summary>
internal sealed record EnvDraft(EnvSpec Entry, LocationInfo? Location);
