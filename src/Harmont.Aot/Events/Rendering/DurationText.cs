using System.Globalization;

namespace Harmont.Aot.Events;

/// <summary>Durations as people read them in a log: 0.42s, 12.30s, 3m07s.</summary>
internal static class DurationText
{
    public static string Format(TimeSpan duration) => duration.TotalSeconds < 60
        ? duration.TotalSeconds.ToString("0.00s", CultureInfo.InvariantCulture)
        : $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s";

    public static string Status(StepStatus status) => status switch
    {
        StepStatus.TimedOut => "timed out",
        _ => status.ToString().ToLowerInvariant(),
    };

    public static string Mark(StepStatus status) => status switch
    {
        StepStatus.Passed => "✓",
        StepStatus.Skipped => "○",
        _ => "✗",
    };
}
