using System.Diagnostics;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// Makes a failing scenario small: drops later runs, steps, operations, edits, policies, globs, env keys
/// and files one at a time, keeping each drop after which the scenario still fails the same way.
/// </summary>
public static class Shrinker
{
    private const int MaxPlays = 150;
    private static readonly TimeSpan MaxTime = TimeSpan.FromMinutes(4);

    public static async Task<(Scenario Scenario, OracleFailure Failure)> ShrinkAsync(
        Scenario scenario, OracleFailure failure, Func<Scenario, Task<OracleFailure?>> play)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(play);
        var clock = Stopwatch.StartNew();
        var plays = 0;
        var current = scenario with { Rounds = [.. scenario.Rounds.Take(failure.Round + 1)] };
        var progress = true;
        while (progress && plays < MaxPlays && clock.Elapsed < MaxTime)
        {
            progress = false;
            foreach (var candidate in Candidates(current))
            {
                if (plays >= MaxPlays || clock.Elapsed >= MaxTime)
                {
                    break;
                }

                if (OracleModel.Invalid(candidate) is not null)
                {
                    continue;
                }

                plays++;
                if (await play(candidate) is { } still && still.Kind == failure.Kind)
                {
                    (current, failure, progress) = (candidate with { Rounds = [.. candidate.Rounds.Take(still.Round + 1)] }, still, true);
                    break;
                }
            }
        }

        return (current, failure);
    }

    private static IEnumerable<Scenario> Candidates(Scenario s)
    {
        // Big cuts first: most failures need few files and no edits at all.
        if (s.Rounds.Any(r => r.Edits.Count > 0))
        {
            yield return s with { Rounds = [.. s.Rounds.Select(r => r with { Edits = [] })] };
        }

        foreach (var (start, length) in Chunks(s.Files.Count))
        {
            yield return s with { Files = [.. s.Files.Take(start), .. s.Files.Skip(start + length)] };
        }

        // Whole runs first: a run's edits move into the next run.
        for (var r = 1; r < s.Rounds.Count - 1; r++)
        {
            var merged = s.Rounds[r + 1] with { Edits = [.. s.Rounds[r].Edits, .. s.Rounds[r + 1].Edits] };
            yield return s with { Rounds = [.. s.Rounds.Take(r), merged, .. s.Rounds.Skip(r + 2)] };
        }

        foreach (var step in s.Steps.Reverse())
        {
            yield return WithoutStep(s, step.Key);
        }

        for (var r = 0; r < s.Rounds.Count; r++)
        {
            for (var e = 0; e < s.Rounds[r].Edits.Count; e++)
            {
                var round = s.Rounds[r] with { Edits = Without(s.Rounds[r].Edits, e) };
                yield return s with { Rounds = Replace(s.Rounds, r, round) };
            }
        }

        for (var i = 0; i < s.Steps.Count; i++)
        {
            var step = s.Steps[i];
            if (step.Ops.Count > 1)
            {
                yield return s with { Steps = Replace(s.Steps, i, step with { Ops = [] }) };
            }

            for (var o = 0; o < step.Ops.Count; o++)
            {
                yield return s with { Steps = Replace(s.Steps, i, step with { Ops = Without(step.Ops, o) }) };
            }

            for (var p = 0; p < step.Policies.Count; p++)
            {
                yield return s with { Steps = Replace(s.Steps, i, step with { Policies = Without(step.Policies, p) }) };
                var policy = step.Policies[p];
                for (var g = 0; g < policy.Globs.Count && policy.Globs.Count > 1; g++)
                {
                    var fewer = policy with { Globs = Without(policy.Globs, g) };
                    yield return s with { Steps = Replace(s.Steps, i, step with { Policies = Replace(step.Policies, p, fewer) }) };
                }

                for (var k = 0; k < policy.EnvKeys.Count; k++)
                {
                    var fewer = policy with { EnvKeys = Without(policy.EnvKeys, k) };
                    yield return s with { Steps = Replace(s.Steps, i, step with { Policies = Replace(step.Policies, p, fewer) }) };
                }
            }

            if (step.After.Count > 0)
            {
                yield return s with { Steps = Replace(s.Steps, i, step with { After = [] }) };
            }
        }

    }

    // Halves, quarters, … down to single items, as (start, length).
    private static IEnumerable<(int Start, int Length)> Chunks(int count)
    {
        for (var length = count / 2; length >= 1; length /= 2)
        {
            for (var start = 0; start + length <= count; start += length)
            {
                yield return (start, length);
            }
        }
    }

    private static Scenario WithoutStep(Scenario s, string key)
    {
        var gone = new HashSet<string>(StringComparer.Ordinal) { key };
        foreach (var step in s.Steps)
        {
            if (step.From is not null && gone.Contains(step.From))
            {
                gone.Add(step.Key);
            }
        }

        var steps = s.Steps.Where(st => !gone.Contains(st.Key)).Select(st => st with { After = [.. st.After.Where(a => !gone.Contains(a))] });
        return s with { Steps = [.. steps] };
    }

    private static List<T> Without<T>(IReadOnlyList<T> items, int index) => [.. items.Take(index), .. items.Skip(index + 1)];

    private static List<T> Replace<T>(IReadOnlyList<T> items, int index, T item) => [.. items.Take(index), item, .. items.Skip(index + 1)];
}
