using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harmont.Aot.Tests.Ir;

/// <summary>Source-generated JSON for the tests' compact comparisons; no reflection, as in the product.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class IrTestJson : JsonSerializerContext;
