namespace Harmont.Aot.Tuning;

/// <summary>One candidate value of a tunable and the times measured with it.</summary>
/// <param name="Value">The setting, e.g. 4 files cloned at once.</param>
/// <param name="Times">One time per round.</param>
internal sealed record Measured(int Value, IReadOnlyList<TimeSpan> Times)
{
    /// <summary>The median round: one slow round on a shared machine moves it little.</summary>
    public TimeSpan Median => TunableChoice.Median(Times);
}

/// <summary>The value a measurement picks, and why in a few words.</summary>
internal sealed record Choice(int Value, string Why);

/// <summary>How measured timings become a setting: pure functions, so they are tested on made-up timings.</summary>
internal static class TunableChoice
{
    /// <summary>How much faster than the default another value must be to replace it: less is within a shared machine's noise.</summary>
    public const double Tolerance = 0.10;

    private const string Within = "within 10%";

    /// <summary>
    /// The default (<paramref name="current"/>) unless it is more than <see cref="Tolerance"/> slower than the fastest
    /// candidate; then the first candidate, in the given order (cheapest first: fewer threads, smaller buffers), within
    /// <see cref="Tolerance"/> of the fastest.
    /// </summary>
    public static Choice Pick(IReadOnlyList<Measured> candidates, int current, Func<int, string>? format = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        format ??= value => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var timed = candidates.Where(c => c.Times.Count > 0).ToList();
        if (timed.Count == 0)
        {
            return new Choice(current, "nothing measured: keep the default");
        }

        var fastest = timed.MinBy(c => c.Median)!;
        var limit = fastest.Median.TotalNanoseconds * (1 + Tolerance);
        if (timed.FirstOrDefault(c => c.Value == current) is { } standing && standing.Median.TotalNanoseconds <= limit)
        {
            return new Choice(current, standing.Value == fastest.Value ? "the default is the fastest" : $"the default is {Within} of the fastest, {format(fastest.Value)}");
        }

        var pick = timed.First(c => c.Median.TotalNanoseconds <= limit);
        return new Choice(pick.Value, pick.Value == fastest.Value ? "the fastest" : $"the cheapest {Within} of the fastest, {format(fastest.Value)}");
    }

    /// <summary>
    /// Whether to keep the file hash memo: it pays when a re-run that finds every file in it (<paramref name="hit"/>) beats
    /// hashing without it (<paramref name="disabled"/>) by more than <see cref="Tolerance"/>.
    /// </summary>
    public static Choice PickMemo(IReadOnlyList<TimeSpan> hit, IReadOnlyList<TimeSpan> disabled)
    {
        ArgumentNullException.ThrowIfNull(hit);
        ArgumentNullException.ThrowIfNull(disabled);
        if (hit.Count == 0 || disabled.Count == 0)
        {
            return new Choice(1, "nothing measured: keep the default");
        }

        var (withMemo, without) = (Median(hit), Median(disabled));
        return withMemo.TotalNanoseconds * (1 + Tolerance) < without.TotalNanoseconds
            ? new Choice(1, $"a re-run with the memo takes {Ratio(withMemo, without)} of one without")
            : new Choice(0, "a re-run with the memo is no faster than hashing every file");
    }

    /// <summary>The middle value; the mean of the two middle ones for an even count.</summary>
    public static TimeSpan Median(IReadOnlyList<TimeSpan> times)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentOutOfRangeException.ThrowIfZero(times.Count);
        var sorted = times.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static string Ratio(TimeSpan part, TimeSpan whole) =>
        Math.Round(100 * part.TotalNanoseconds / whole.TotalNanoseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) + "%";
}
