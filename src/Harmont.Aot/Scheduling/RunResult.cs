using Harmont.Aot.Events;

namespace Harmont.Aot.Scheduling;

/// <summary>How a run ended: the process exit code and each step's status.</summary>
internal sealed record RunResult(int ExitCode, IReadOnlyDictionary<string, StepStatus> Steps)
{
    /// <summary>Exit codes of docs/events.md: 130 cancelled, 124 timed out, 1 a step failed, else 0.</summary>
    public static int ExitCodeFor(IEnumerable<StepStatus> statuses, bool cancelledByUser, bool buildTimedOut)
    {
        if (cancelledByUser)
        {
            return ExitCodes.Cancelled;
        }

        var all = statuses.ToList();
        if (buildTimedOut || all.Contains(StepStatus.TimedOut))
        {
            return ExitCodes.Timeout;
        }

        return all.Contains(StepStatus.Failed) ? ExitCodes.StepFailed : ExitCodes.Passed;
    }
}

/// <summary>The process exit codes of docs/events.md.</summary>
internal static class ExitCodes
{
    public const int Passed = 0;
    public const int StepFailed = 1;
    public const int Usage = 2;
    public const int EngineUnavailable = 4;
    public const int Timeout = 124;
    public const int Cancelled = 130;
}
