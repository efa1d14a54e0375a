using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Harmont.Aot.Events;

/// <summary>
/// The live view on a terminal: one line per running or finished step, nested by lineage, with a
/// spinner and elapsed time, redrawn in place. Output is kept aside; a failed step's log is printed
/// in full at the end, before the summary.
/// </summary>
internal sealed class TtyRenderer : IRunEventSink, IDisposable
{
    private readonly TextWriter _output;
    private readonly Func<int> _width;
    private readonly Lock _gate = new();
    private readonly LogSpool _spool = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, int> _depth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _startedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StepFinished> _finished = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastLine = new(StringComparer.Ordinal);
    private readonly List<StepFinished> _finishOrder = [];
    private readonly HashSet<string> _cached = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private int _drawn;
    private int _tick;

    public TtyRenderer(TextWriter output, Func<int> width)
    {
        _output = output;
        _width = width;
        _timer = new Timer(_ => Redraw(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public void Publish(RunEvent runEvent)
    {
        lock (_gate)
        {
            switch (runEvent)
            {
                case BuildStarted started:
                    Plan(started);
                    _output.Write("\u001b[?25l");
                    _output.WriteLine($"harmont: running pipeline '{started.Pipeline}' ({started.Steps.Count} steps, run {started.RunId})");
                    _timer.Change(0, 100);
                    break;
                case StepStarted started:
                    _startedAt[started.Step] = Stopwatch.GetTimestamp();
                    break;
                case StepCacheHit hit:
                    _cached.Add(hit.Step);
                    break;
                case StepLog log:
                    _spool.Append(log.Step, log.Line);
                    _lastLine[log.Step] = log.Line;
                    break;
                case StepFinished finished:
                    _finished[finished.Step] = finished;
                    _finishOrder.Add(finished);
                    break;
                case BuildFinished finished:
                    _timer.Change(Timeout.Infinite, Timeout.Infinite);
                    DrawLocked();
                    _output.Write("\u001b[?25h");
                    WriteFailedLogs();
                    SummaryTable.Write(_output, _finishOrder, _cached, finished);
                    _output.Flush();
                    break;
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _spool.Dispose();
    }

    private void Plan(BuildStarted started)
    {
        var children = started.Steps.ToDictionary(s => s, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var step in started.Steps)
        {
            if (started.Parents.TryGetValue(step, out var parent) && children.TryGetValue(parent, out var list))
            {
                list.Add(step);
            }
        }

        void Walk(string step, int depth)
        {
            _order.Add(step);
            _depth[step] = depth;
            foreach (var child in children[step])
            {
                Walk(child, depth + 1);
            }
        }

        foreach (var root in started.Steps.Where(s => !started.Parents.ContainsKey(s)))
        {
            Walk(root, 0);
        }
    }

    private void Redraw()
    {
        lock (_gate)
        {
            _tick++;
            DrawLocked();
        }
    }

    private void DrawLocked()
    {
        var rows = new List<TtyRow>();
        foreach (var step in _order)
        {
            if (_finished.TryGetValue(step, out var done))
            {
                rows.Add(new TtyRow(step, _depth[step], done.Status, done.Duration, null, _cached.Contains(step)));
            }
            else if (_startedAt.TryGetValue(step, out var started))
            {
                rows.Add(new TtyRow(step, _depth[step], null, Stopwatch.GetElapsedTime(started), _lastLine.GetValueOrDefault(step)));
            }
        }

        var frame = new StringBuilder();
        if (_drawn > 0)
        {
            frame.Append(CultureInfo.InvariantCulture, $"\u001b[{_drawn}F");
        }

        frame.Append("\u001b[J");
        var lines = TtyFrame.Compose(rows, SafeWidth(), _tick);
        foreach (var line in lines)
        {
            frame.Append(line).Append('\n');
        }

        _drawn = lines.Count;
        _output.Write(frame.ToString());
        _output.Flush();
    }

    private void WriteFailedLogs()
    {
        foreach (var failed in _finishOrder.Where(f => f.Status is StepStatus.Failed or StepStatus.TimedOut))
        {
            _output.WriteLine();
            _output.WriteLine($"── {failed.Step}: {DurationText.Status(failed.Status)}{(failed.ExitCode is { } code ? $" (exit {code})" : "")} ──");
            _spool.Replay(failed.Step, _output, static line => line);
        }
    }

    private int SafeWidth()
    {
        try
        {
            var width = _width();
            return width > 0 ? width : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
