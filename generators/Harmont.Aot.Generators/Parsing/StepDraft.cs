using System.Collections.Generic;
using Harmont.Aot.Generators.Model;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>
/// A step as read from its method, before graph references are resolved. It lives only inside
/// one parse, so it may carry locations and plain lists; the cached model (<see cref="StepSpec"/>) does not.
/// </summary>
/// <param name="KeyLocation">The Key argument when given, else the [Step] attribute: where HM0003 points.</param>
internal sealed record StepDraft(
    string MethodName,
    string Key,
    LocationInfo? KeyLocation,
    string Label,
    string? ConstantCommand,
    StepReference? From,
    IReadOnlyList<StepReference> After,
    string? Image,
    IReadOnlyList<EnvSpec> Env,
    RunnerSpec Runner);

/// <summary>A From or After value (a step method's name, null if written as null) and the expression that wrote it.</summary>
internal sealed record StepReference(string? MethodName, LocationInfo? Location);
