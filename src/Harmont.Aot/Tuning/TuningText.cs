using System.Globalization;
using System.Text;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tuning;

/// <summary>The human forms of <see cref="StatsReport"/> and <see cref="TuneReport"/>.</summary>
internal static class TuningText
{
    /// <summary>A table, one row per step, then the totals.</summary>
    public static string Stats(StatsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        string[] header = ["step", "runs", "hit rate", "median", "p90", "saved", "hashing", "entry", "evicted+needed"];
        var rows = report.Steps.Select(s => new[]
        {
            s.Step,
            Number(s.Runs),
            s.HitRate is { } rate ? (rate * 100).ToString("0'%'", CultureInfo.InvariantCulture) : "-",
            Time(s.MedianMs),
            Time(s.P90Ms),
            s.SavedMs > 0 ? Time(s.SavedMs) : "-",
            s.HashMs > 0 ? Time(s.HashMs) : "-",
            s.EntryBytes is { } bytes ? CacheUnits.FormatSize(bytes) : "-",
            Number(s.EvictedThenNeeded),
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"pipeline {report.Pipeline}: {report.Runs} run{(report.Runs == 1 ? "" : "s")}");
        foreach (var row in rows.Prepend(header))
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }

        var totals = report.Totals;
        text.AppendLine(CultureInfo.InvariantCulture, $"critical path (newest run): {Time(totals.CriticalPathMs)}: {string.Join(" > ", totals.CriticalPath)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"median wall time: {Time(totals.MedianWallMs)}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"runner overhead: {(totals.OverheadShare * 100).ToString("0.#", CultureInfo.InvariantCulture)}% of step time ({Time(totals.OverheadMs)} runner, {Time(totals.CommandMs)} commands)");
        return text.ToString();
    }

    /// <summary>Each piece of advice with its saving, change and evidence; or that there is none.</summary>
    public static string Tune(TuneReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        if (report.Advice.Count == 0)
        {
            return text.AppendLine(CultureInfo.InvariantCulture, $"pipeline {report.Pipeline}: {report.Runs} run{(report.Runs == 1 ? "" : "s")}, nothing to change: no rule found evidence of time to save.").ToString();
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"pipeline {report.Pipeline}: {report.Runs} run{(report.Runs == 1 ? "" : "s")}, largest saving first:");
        var n = 0;
        foreach (var advice in report.Advice)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{++n}. {advice.Change}");
            text.AppendLine(CultureInfo.InvariantCulture, $"   would have saved {Time(advice.SavedMs)} over these runs ({advice.Kind})");
            foreach (var line in advice.Evidence)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"   - {line}");
            }
        }

        return text.ToString();
    }

    private static string Time(double? ms) => ms is { } value ? TuneAdvisor.Seconds(value) : "-";

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);
}
