using System.Globalization;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cache;

/// <summary>Sizes and ages as written on the command line and in the environment: 10GiB, 500MB, 7d, 12h.</summary>
internal static class CacheUnits
{
    /// <summary>Default bound of the store when HARMONT_CACHE_MAX_SIZE is not set.</summary>
    public const long DefaultMaxBytes = 10L * 1024 * 1024 * 1024;

    public static long ParseSize(string text, string what)
    {
        var units = new (string Suffix, long Factor)[]
        {
            ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
            ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1),
        };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0)
            {
                return (long)(value * factor);
            }
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
            ? bytes
            : throw new PipelineException($"{what} '{text}' is not a size; write it like 10GiB, 500MB or 1048576.");
    }

    /// <summary>An age in the DSL's duration notation (7d, 12h, 1h30m, 00:30:00).</summary>
    public static TimeSpan ParseAge(string text, string what) =>
        DurationParser.Parse(text, out var problem) is { } ticks && ticks >= 0
            ? TimeSpan.FromTicks(ticks)
            : throw new PipelineException($"{what} '{text}' {(problem.Length > 0 ? problem : "is negative")}; write it like 7d, 12h, 1h30m or 45s.");

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0' GiB'", CultureInfo.InvariantCulture),
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0' MiB'", CultureInfo.InvariantCulture),
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0' KiB'", CultureInfo.InvariantCulture),
        _ => $"{bytes} B",
    };

    public static string FormatAge(TimeSpan age) => age switch
    {
        { TotalDays: >= 1 } => $"{(int)age.TotalDays}d",
        { TotalHours: >= 1 } => $"{(int)age.TotalHours}h",
        { TotalMinutes: >= 1 } => $"{(int)age.TotalMinutes}m",
        _ => $"{(int)age.TotalSeconds}s",
    };
}
