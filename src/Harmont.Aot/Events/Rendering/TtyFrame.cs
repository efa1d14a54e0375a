namespace Harmont.Aot.Events;

/// <summary>One step's line in the live view.</summary>
/// <param name="Step">The step's key.</param>
/// <param name="Depth">Lineage depth, for indentation.</param>
/// <param name="Status">Final status, or null while running.</param>
/// <param name="Elapsed">Time since the step started (or its duration, once finished).</param>
/// <param name="LastLine">The step's latest output line, shown while it runs.</param>
/// <param name="Cached">Whether the result came from the cache.</param>
internal sealed record TtyRow(string Step, int Depth, StepStatus? Status, TimeSpan Elapsed, string? LastLine, bool Cached = false);

/// <summary>Composes the live view's lines. Pure, so it is tested as text.</summary>
internal static class TtyFrame
{
    private const string Spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

    /// <summary>
    /// Each line is cut to <paramref name="width"/> - 1 columns: a line that never wraps keeps the
    /// cursor arithmetic of the redraw exact, which is what keeps a resize from leaving garbage.
    /// </summary>
    public static IReadOnlyList<string> Compose(IReadOnlyList<TtyRow> rows, int width, int tick)
    {
        var keyWidth = rows.Max(r => (int?)(r.Depth * 2 + r.Step.Length)) ?? 0;
        var lines = new List<string>(rows.Count);
        foreach (var row in rows)
        {
            var mark = row.Status is { } status ? DurationText.Mark(status) : Spinner[tick % Spinner.Length].ToString();
            var name = (new string(' ', row.Depth * 2) + row.Step).PadRight(keyWidth);
            var state = row.Status switch
            {
                null => "",
                StepStatus.Passed when row.Cached => "  cached",
                StepStatus.Passed => "",
                var other => $"  {DurationText.Status(other.Value)}",
            };
            var tail = row.Status is null && !string.IsNullOrWhiteSpace(row.LastLine) ? $"  {Clean(row.LastLine)}" : "";
            lines.Add(Fit($"{mark} {name}  {DurationText.Format(row.Elapsed),7}{state}{tail}", width));
        }

        return lines;
    }

    private static string Fit(string line, int width)
    {
        var max = Math.Max(10, width - 1);
        return line.Length <= max ? line : string.Concat(line.AsSpan(0, max - 1), "…");
    }

    // A step's own escape sequences or tabs would move the cursor under the view's feet:
    // CSI sequences (ESC [ ... final byte) are dropped, other control characters become spaces.
    private static string Clean(string line)
    {
        var text = new System.Text.StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\u001b' && i + 1 < line.Length && line[i + 1] == '[')
            {
                i += 2;
                while (i < line.Length && line[i] is < '@' or > '~')
                {
                    i++;
                }

                continue;
            }

            text.Append(char.IsControl(line[i]) ? ' ' : line[i]);
        }

        return text.ToString().Trim();
    }
}
