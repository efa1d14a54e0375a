using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Harmont.Aot.Runners;

/// <summary>Where one executed step's time went, phase by phase (workspace, create, start, command, commit, ...).</summary>
/// <remarks>
/// Each <see cref="Mark"/> charges the time since the previous mark to the phase named, so the phases add up
/// to the step's wall time. Made only when <see cref="StepPhaseLog"/> is on: a run that does not ask pays nothing.
/// </remarks>
internal sealed class StepPhases
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Phase, TimeSpan Time)> _phases = [];
    private TimeSpan _last;

    /// <summary>Charges the time since the previous mark (or the start) to <paramref name="phase"/>.</summary>
    public void Mark(string phase)
    {
        lock (_phases)
        {
            var now = _clock.Elapsed;
            _phases.Add((phase, now - _last));
            _last = now;
        }
    }

    /// <summary>Moves <paramref name="time"/> out of the phase <paramref name="from"/> into <paramref name="phase"/> (the engine's own timing of the command, inside the wait).</summary>
    public void Split(string from, string phase, TimeSpan time)
    {
        lock (_phases)
        {
            var at = _phases.FindLastIndex(p => p.Phase == from);
            if (at < 0 || time <= TimeSpan.Zero)
            {
                return;
            }

            var part = time < _phases[at].Time ? time : _phases[at].Time;
            _phases[at] = (from, _phases[at].Time - part);
            _phases.Insert(at, (phase, part));
        }
    }

    /// <summary>One line: <c>phase=ms</c> pairs in order, then <c>total=ms</c>.</summary>
    public string Format()
    {
        lock (_phases)
        {
            var line = new StringBuilder();
            foreach (var (phase, time) in _phases)
            {
                line.Append(CultureInfo.InvariantCulture, $"{phase}={time.TotalMilliseconds:0.0} ");
            }

            return line.Append(CultureInfo.InvariantCulture, $"total={_clock.Elapsed.TotalMilliseconds:0.0}").ToString();
        }
    }
}

/// <summary>The file <c>HARMONT_STEP_PHASES</c> names: one line per executed step, <c>run step phase=ms ...</c>, appended.</summary>
internal sealed class StepPhaseLog(string path)
{
    /// <summary>The environment variable that turns phase timing on.</summary>
    public const string EnvironmentVariable = "HARMONT_STEP_PHASES";

    private readonly Lock _gate = new();

    /// <summary>The log the environment asks for; null when it asks for none.</summary>
    public static StepPhaseLog? FromEnvironment(Func<string, string?> getEnv) =>
        getEnv(EnvironmentVariable) is { Length: > 0 } path ? new StepPhaseLog(Path.GetFullPath(path)) : null;

    /// <summary>Appends one step's phases; a log that cannot be written costs the timing, never the run.</summary>
    public void Write(string runId, string step, StepPhases phases)
    {
        var line = $"{runId}\t{step}\t{phases.Format()}\n";
        lock (_gate)
        {
            try
            {
                File.AppendAllText(path, line);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Only a measurement; the step's own result stands.
            }
        }
    }
}
