using System.Globalization;

namespace Harmont.Aot.Events;

/// <summary>Prefixed log lines and an end summary, for CI logs and pipes.</summary>
internal sealed class PlainRenderer(TextWriter output) : IRunEventSink
{
    private readonly Lock _gate = new();
    private readonly List<StepFinished> _finished = [];
    private int _width = 8;

    public void Publish(RunEvent runEvent)
    {
        lock (_gate)
        {
            switch (runEvent)
            {
                case BuildStarted started:
                    _width = Math.Max(4, started.Steps.Max(s => (int?)s.Length) ?? 4);
                    output.WriteLine($"harmont: running pipeline '{started.Pipeline}' ({started.Steps.Count} steps, run {started.RunId})");
                    break;
                case StepStarted started:
                    output.WriteLine($"{Prefix(started.Step)} ▶ started on {started.Backend}");
                    break;
                case StepLog log:
                    output.WriteLine($"{Prefix(log.Step)} {log.Line}");
                    break;
                case StepFinished finished:
                    _finished.Add(finished);
                    output.WriteLine($"{Prefix(finished.Step)} {Mark(finished.Status)} {Describe(finished)}");
                    break;
                case BuildFinished finished:
                    WriteSummary(finished);
                    break;
            }

            output.Flush();
        }
    }

    private string Prefix(string step) => $"[{step.PadRight(_width)}]";

    private void WriteSummary(BuildFinished finished)
    {
        output.WriteLine();
        output.WriteLine($"{"STEP".PadRight(_width)}  {"STATUS",-9}  {"DURATION",9}  CACHED");
        foreach (var step in _finished)
        {
            output.WriteLine($"{step.Step.PadRight(_width)}  {step.Status,-9}  {Format(step.Duration),9}  -");
        }

        var verdict = finished.ExitCode == 0 ? "passed" : $"failed (exit {finished.ExitCode})";
        output.WriteLine($"harmont: pipeline '{finished.Pipeline}' {verdict} in {Format(finished.Duration)}");
    }

    private static string Describe(StepFinished finished) => finished.Status switch
    {
        StepStatus.Passed => $"passed in {Format(finished.Duration)}",
        StepStatus.Failed when finished.ExitCode is { } code => $"failed with exit code {code} after {Format(finished.Duration)}",
        _ => finished.Reason is null ? finished.Status.ToString().ToLowerInvariant() : $"{finished.Status.ToString().ToLowerInvariant()}: {finished.Reason}",
    };

    private static string Mark(StepStatus status) => status switch
    {
        StepStatus.Passed => "✓",
        StepStatus.Skipped => "○",
        _ => "✗",
    };

    internal static string Format(TimeSpan duration) => duration.TotalSeconds < 60
        ? duration.TotalSeconds.ToString("0.00s", CultureInfo.InvariantCulture)
        : $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s";
}
