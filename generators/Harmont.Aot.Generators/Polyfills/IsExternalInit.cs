// netstandard2.0 lacks the marker type that C# records and init accessors compile against.
namespace System.Runtime.CompilerServices;

/// <summary>Compiler marker for init-only setters, missing from netstandard2.0.</summary>
internal static class IsExternalInit
{
}
