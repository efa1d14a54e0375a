using System.Globalization;
using System.Text.Json;
using Harmont.Aot.Cache;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tuning;

/// <summary>
/// The newest runs of one pipeline, one small file each beside its latest record (<c>runs/ID.history/</c>),
/// for <c>stats</c> and <c>tune</c>. The count is bounded by <see cref="KeepVariable"/>; each file leaves out the
/// file table, so its size grows with the step count only (docs/stats-and-tune.md states the bound).
/// </summary>
internal static class RunHistory
{
    /// <summary>How many runs to keep per pipeline.</summary>
    public const string KeepVariable = "HARMONT_RUNS_KEEP";

    public const int DefaultKeep = 50;

    private const int MaxKeep = 10_000;

    /// <summary>The bound from the environment.</summary>
    /// <exception cref="PipelineException">The value is not a whole number from 0 to 10000.</exception>
    public static int Keep(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var text = getEnv(KeepVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultKeep;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var keep) && keep <= MaxKeep
            ? keep
            : throw new PipelineException($"{KeepVariable} '{text}' is not a number of runs to keep; write a whole number from 0 to {MaxKeep}, like {DefaultKeep} (0 keeps none).");
    }

    /// <summary>Where the runs beside the latest record at <paramref name="recordPath"/> are kept.</summary>
    public static string DirectoryFor(string recordPath) => Path.ChangeExtension(recordPath, ".history");

    /// <summary>Adds <paramref name="record"/> and removes all but the newest <paramref name="keep"/>.</summary>
    public static void Append(RunRecord record, string recordPath, int keep)
    {
        ArgumentNullException.ThrowIfNull(record);
        var directory = DirectoryFor(recordPath);
        if (keep > 0)
        {
            Directory.CreateDirectory(directory);
            var name = $"{record.At.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfffffff", CultureInfo.InvariantCulture)}-{Safe(record.RunId)}.json";
            AtomicFile.Write(Path.Combine(directory, name), JsonSerializer.SerializeToUtf8Bytes(record, TuningJsonContext.Default.RunRecord));
        }

        foreach (var old in Files(directory).SkipLast(keep))
        {
            File.Delete(old); // A concurrent run may have removed it first; Delete does not mind.
        }
    }

    /// <summary>The newest <paramref name="last"/> runs, oldest first; files that do not read are left out.</summary>
    public static List<RunRecord> Load(string recordPath, int last)
    {
        var records = new List<RunRecord>();
        foreach (var file in Files(DirectoryFor(recordPath)).TakeLast(last))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(file), TuningJsonContext.Default.RunRecord) is { Format: RunRecord.CurrentFormat } record)
                {
                    records.Add(record);
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                // A record is evidence, never a reason to fail: one that does not read is skipped.
            }
        }

        return records;
    }

    // Oldest first: names start with the run's time.
    private static IEnumerable<string> Files(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal) : [];

    private static string Safe(string runId) => string.Concat(runId.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_'));
}
