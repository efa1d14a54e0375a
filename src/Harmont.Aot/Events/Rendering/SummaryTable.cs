namespace Harmont.Aot.Events;

/// <summary>The end-of-run table every renderer prints (step, status, duration, cached) and the verdict line.</summary>
internal static class SummaryTable
{
    public static void Write(TextWriter output, IReadOnlyList<StepFinished> steps, IReadOnlySet<string> cached, BuildFinished finished)
    {
        var width = Math.Max(4, steps.Max(s => (int?)s.Step.Length) ?? 4);
        output.WriteLine();
        output.WriteLine($"{"STEP".PadRight(width)}  {"STATUS",-9}  {"DURATION",9}  CACHED");
        foreach (var step in steps)
        {
            var mark = cached.Contains(step.Step) ? "yes" : "-";
            output.WriteLine($"{step.Step.PadRight(width)}  {DurationText.Status(step.Status),-9}  {DurationText.Format(step.Duration),9}  {mark}");
        }

        var verdict = finished.ExitCode switch
        {
            0 => "passed",
            124 => "timed out (exit 124)",
            130 => "was cancelled (exit 130)",
            var code => $"failed (exit {code})",
        };
        output.WriteLine($"harmont: pipeline '{finished.Pipeline}' {verdict} in {DurationText.Format(finished.Duration)}");
    }
}
