using System.Text.Json.Serialization;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tuning;

/// <summary>Source-generated JSON for run history (compact) and the <c>stats</c> and <c>tune</c> reports.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(StatsReport))]
[JsonSerializable(typeof(TuneReport))]
internal sealed partial class TuningJsonContext : JsonSerializerContext;
