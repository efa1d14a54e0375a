namespace Harmont.Aot.Events;

/// <summary>Something that happened during a run; renderers and tests consume these.</summary>
internal abstract record RunEvent(DateTimeOffset At);

/// <summary>The run has started.</summary>
internal sealed record BuildStarted(DateTimeOffset At, string Pipeline, string RunId, IReadOnlyList<string> Steps) : RunEvent(At)
{
    /// <summary>Each step's lineage parent, for steps that have one; renderers nest by it.</summary>
    public IReadOnlyDictionary<string, string> Parents { get; init; } = new Dictionary<string, string>();
}

/// <summary>A step is waiting for its inputs or a free slot.</summary>
internal sealed record StepQueued(DateTimeOffset At, string Step) : RunEvent(At);

/// <summary>A step's command has started on a backend.</summary>
internal sealed record StepStarted(DateTimeOffset At, string Step, string Backend) : RunEvent(At);

/// <summary>A step's result came from the cache: no workspace, no container, no command.</summary>
internal sealed record StepCacheHit(DateTimeOffset At, string Step, string Key) : RunEvent(At);

/// <summary>One line of a step's output.</summary>
internal sealed record StepLog(DateTimeOffset At, string Step, bool IsError, string Line) : RunEvent(At);

/// <summary>A step has reached a final status.</summary>
internal sealed record StepFinished(DateTimeOffset At, string Step, StepStatus Status, int? ExitCode, TimeSpan Duration, string? Reason) : RunEvent(At);

/// <summary>A step failed or timed out; says why in one line.</summary>
internal sealed record StepFailure(DateTimeOffset At, string Step, StepStatus Status, int? ExitCode, string Message) : RunEvent(At);

/// <summary>The run has ended.</summary>
internal sealed record BuildFinished(DateTimeOffset At, string Pipeline, int ExitCode, TimeSpan Duration) : RunEvent(At);

/// <summary>Where a step ended up.</summary>
internal enum StepStatus
{
    /// <summary>Ran and exited 0.</summary>
    Passed,

    /// <summary>Ran and exited non-zero, or could not be started.</summary>
    Failed,

    /// <summary>Never started because something it needs did not pass.</summary>
    Skipped,

    /// <summary>Stopped by fail-fast or Ctrl-C.</summary>
    Cancelled,

    /// <summary>Stopped by its timeout or the build's.</summary>
    TimedOut,
}

/// <summary>Receives run events; implementations must be safe to call from several steps at once.</summary>
internal interface IRunEventSink
{
    /// <summary>Handles one event.</summary>
    void Publish(RunEvent runEvent);
}
