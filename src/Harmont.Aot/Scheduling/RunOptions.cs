using Harmont.Aot.Runners;

namespace Harmont.Aot.Scheduling;

/// <summary>How one run behaves, as the command line set it.</summary>
/// <param name="SourceRoot">The working tree the source base is taken from.</param>
/// <param name="WorkRoot">Parent of the run's private work directory.</param>
/// <param name="Parallelism">Most steps running at once.</param>
/// <param name="KeepGoing">Let independent branches finish after a failure.</param>
internal sealed record RunOptions(string SourceRoot, string WorkRoot, int Parallelism, bool KeepGoing)
{
    /// <summary>Where each executed step's phase timings go (<c>HARMONT_STEP_PHASES</c>); null measures nothing.</summary>
    public StepPhaseLog? PhaseLog { get; init; }
}
