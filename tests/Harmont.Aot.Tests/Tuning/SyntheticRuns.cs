using Harmont.Aot.Cache;
using Harmont.Aot.Tuning;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>Hand-made run records, so each tune rule can be driven by exactly the evidence it reads.</summary>
internal static class SyntheticRuns
{
    /// <summary>A run of <paramref name="steps"/>; the run's facts default to a healthy machine (4 cores, -j 4, reflink, one filesystem).</summary>
    public static RunRecord Run(int index, IEnumerable<(string Name, StepRecord Step)> steps, RunFacts? facts = null) => new()
    {
        RunId = $"run-{index}",
        At = DateTimeOffset.UnixEpoch.AddHours(index),
        Pipeline = "ci",
        Steps = steps.ToDictionary(s => s.Name, s => s.Step, StringComparer.Ordinal),
        Facts = facts ?? Machine(),
    };

    public static RunFacts Machine(int jobs = 4, int cores = 4, string? strategy = "reflink", bool same = true, long maxBytes = 10L << 30, params string[] changed) => new()
    {
        WallMs = 10_000,
        Parallelism = jobs,
        Cores = cores,
        Strategy = strategy,
        WorkDir = "/work",
        CacheDir = "/cache",
        SameFileSystem = same,
        MaxBytes = maxBytes,
        ChangedFiles = [.. changed],
    };

    /// <summary>
    /// One step's record. A cached step (<paramref name="policy"/> set) has a key made of its components, so a
    /// change of <paramref name="onChange"/> (the files' hash) or <paramref name="command"/> changes it.
    /// </summary>
    public static (string, StepRecord) Step(
        string name,
        string outcome,
        double commandMs = 0,
        string? policy = null,
        string? from = null,
        string? onChange = null,
        string[]? globs = null,
        string command = "make",
        string? digest = null,
        long? bytes = null,
        double hashMs = 0,
        double lookupMs = 1,
        double prepareMs = 0,
        double persistMs = 0,
        double commitMs = 0,
        double queueMs = 0,
        double began = 0,
        string? parentKey = null,
        List<string>? miss = null)
    {
        var components = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["command"] = command };
        if (from is not null)
        {
            components["from"] = from;
        }

        if (policy is not null)
        {
            components["policies"] = policy;
            components["parent"] = parentKey ?? "scratch";
            components["policy"] = onChange ?? policy;
            if (globs is not null)
            {
                components[$"onchange.{string.Join(",", globs)}"] = onChange ?? "sha-0";
            }
        }

        var executed = outcome == "executed";
        var total = lookupMs + (executed ? prepareMs + commandMs + persistMs + commitMs : 0);
        return (name, new StepRecord
        {
            Key = policy is null ? null : $"{name}:" + string.Join("|", components.Select(c => $"{c.Key}={c.Value}")),
            NotCachedReason = policy is null ? "it has no cache policy" : null,
            Outcome = outcome,
            Components = components,
            Globs = [.. globs ?? []],
            Facts = new StepFacts
            {
                Status = "passed",
                HashMs = hashMs,
                LookupMs = lookupMs,
                QueueMs = queueMs,
                PrepareMs = executed ? prepareMs : 0,
                CommandMs = executed ? commandMs : 0,
                PersistMs = executed ? persistMs : 0,
                CommitMs = executed ? commitMs : 0,
                BeganMs = began,
                EndedMs = began + queueMs + total,
                EntryBytes = executed && policy is not null ? bytes ?? 1000 : null,
                Digest = executed && policy is not null ? digest ?? $"tree:{Guid.NewGuid():N}" : null,
                MissReasons = miss,
                Needs = from is null ? [] : [from],
            },
        });
    }
}
