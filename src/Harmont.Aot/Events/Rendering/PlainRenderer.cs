namespace Harmont.Aot.Events;

/// <summary>
/// Prefixed log lines and an end summary, for CI logs and pipes. Under GitHub Actions each step's
/// output is a <c>::group::</c> (written when the step ends, since parallel steps interleave) and a
/// failure is an <c>::error::</c> annotation.
/// </summary>
internal sealed class PlainRenderer : IRunEventSink, IDisposable
{
    private readonly TextWriter _output;
    private readonly bool _gitHub;
    private readonly Lock _gate = new();
    private readonly List<StepFinished> _finished = [];
    private readonly Dictionary<string, string> _cached = new(StringComparer.Ordinal);
    private readonly LogSpool _spool = new();
    private int _width = 4;

    public PlainRenderer(TextWriter output, bool gitHubActions = false)
    {
        _output = output;
        _gitHub = gitHubActions;
    }

    public void Publish(RunEvent runEvent)
    {
        lock (_gate)
        {
            switch (runEvent)
            {
                case BuildStarted started:
                    _width = Math.Max(4, started.Steps.Max(s => (int?)s.Length) ?? 4);
                    _output.WriteLine($"harmont: running pipeline '{started.Pipeline}' ({started.Steps.Count} steps, run {started.RunId})");
                    break;
                case StepCacheHit hit:
                    _cached[hit.Step] = hit.Key;
                    break;
                case StepStarted started when !_gitHub:
                    _output.WriteLine($"{Prefix(started.Step)} ▶ started on {started.Backend}");
                    break;
                case StepLog log when _gitHub:
                    _spool.Append(log.Step, log.Line);
                    break;
                case StepLog log:
                    _output.WriteLine($"{Prefix(log.Step)} {log.Line}");
                    break;
                case StepFinished finished:
                    _finished.Add(finished);
                    WriteFinished(finished);
                    break;
                case StepFailure failure when _gitHub:
                    _output.WriteLine($"::error title=step {Escape(failure.Step)} {DurationText.Status(failure.Status)}::{Escape(failure.Message)}");
                    break;
                case BuildFinished finished:
                    SummaryTable.Write(_output, _finished, _cached.Keys.ToHashSet(StringComparer.Ordinal), finished);
                    break;
            }

            _output.Flush();
        }
    }

    public void Dispose() => _spool.Dispose();

    private void WriteFinished(StepFinished finished)
    {
        var line = _cached.TryGetValue(finished.Step, out var key)
            ? $"{DurationText.Mark(finished.Status)} cached (key {key[..Math.Min(12, key.Length)]})"
            : $"{DurationText.Mark(finished.Status)} {Describe(finished)}";
        if (!_gitHub)
        {
            _output.WriteLine($"{Prefix(finished.Step)} {line}");
            return;
        }

        _output.WriteLine($"::group::{finished.Step}: {line}");
        _spool.Replay(finished.Step, _output, static l => l);
        _output.WriteLine("::endgroup::");
    }

    private string Prefix(string step) => $"[{step.PadRight(_width)}]";

    private static string Describe(StepFinished finished) => finished.Status switch
    {
        StepStatus.Passed => $"passed in {DurationText.Format(finished.Duration)}",
        StepStatus.Failed when finished.ExitCode is { } code => $"failed with exit code {code} after {DurationText.Format(finished.Duration)}",
        _ => finished.Reason is null ? DurationText.Status(finished.Status) : $"{DurationText.Status(finished.Status)}: {finished.Reason}",
    };

    // Workflow commands end at a newline and treat % specially.
    private static string Escape(string text) =>
        text.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);
}
