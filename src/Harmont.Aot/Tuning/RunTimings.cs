using System.Collections.Concurrent;
using System.Diagnostics;

namespace Harmont.Aot.Tuning;

/// <summary>The parts a step's time is split into in its run record (docs/stats-and-tune.md).</summary>
internal enum StepPhase
{
    /// <summary>Looking the key up in the cache: for a hit, all the step costs.</summary>
    Lookup,

    /// <summary>Making the workspace: a clone, a mount, or a cached parent's output plus the source delta.</summary>
    Prepare,

    /// <summary>From asking the backend to the command running: image check, container create and start, or process spawn.</summary>
    Start,

    /// <summary>The command itself, until its output is drained.</summary>
    Command,

    /// <summary>Committing the container's system state (Docker).</summary>
    Commit,

    /// <summary>Putting the output workspace into the cache entry.</summary>
    Persist,
}

/// <summary>One step's measured phases, filled by the runner and its backend as the step goes.</summary>
internal sealed class StepTimings
{
    private readonly long[] _ticks = new long[Enum.GetValues<StepPhase>().Length];
    private long _queued;

    /// <summary>Adds <paramref name="elapsed"/> to <paramref name="phase"/>.</summary>
    public void Add(StepPhase phase, TimeSpan elapsed) => Interlocked.Add(ref _ticks[(int)phase], elapsed.Ticks);

    /// <summary>Adds the time since <paramref name="since"/> (a <see cref="Stopwatch.GetTimestamp"/>) to <paramref name="phase"/>.</summary>
    public void AddSince(StepPhase phase, long since) => Add(phase, Stopwatch.GetElapsedTime(since));

    /// <summary>The time measured for <paramref name="phase"/>.</summary>
    public TimeSpan this[StepPhase phase] => TimeSpan.FromTicks(Interlocked.Read(ref _ticks[(int)phase]));

    /// <summary>Time spent waiting for a slot after its prerequisites finished.</summary>
    public TimeSpan Queued
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _queued));
        set => Interlocked.Exchange(ref _queued, value.Ticks);
    }

    /// <summary>When the step began its own work (lookup, else slot), since the run began.</summary>
    public TimeSpan? Began { get; set; }

    /// <summary>When it finished, since the run began.</summary>
    public TimeSpan? Ended { get; set; }
}

/// <summary>
/// The measured phases of every step of one run: created by the run, passed to the runner, which hands each
/// step's <see cref="StepTimings"/> to its backend, and read when the run record is written.
/// </summary>
internal sealed class RunTimings
{
    private readonly ConcurrentDictionary<string, StepTimings> _steps = new(StringComparer.Ordinal);
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>The timings of <paramref name="step"/>, made on first use.</summary>
    public StepTimings For(string step) => _steps.GetOrAdd(step, _ => new StepTimings());

    /// <summary>The timings of <paramref name="step"/>, or null when nothing was measured for it.</summary>
    public StepTimings? Of(string step) => _steps.GetValueOrDefault(step);

    /// <summary>Time since the run began.</summary>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_start);

    /// <summary>Resolving every key before the run: listing, stat and hash of onChange files, the project identity.</summary>
    public TimeSpan Planning { get; set; }
}
