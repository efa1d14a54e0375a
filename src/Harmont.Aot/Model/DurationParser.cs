// This file is compiled into the runtime and, linked, into the netstandard2.0 generator, so the DSL
// (at compile time) and the command line (at run time) read durations one way.
using System;
using System.Globalization;

namespace Harmont.Aot.Model;

/// <summary>
/// Reads DSL durations: unit runs such as <c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>7d</c>, <c>500ms</c>
/// (optionally signed), or a TimeSpan in its invariant form (<c>00:15:00</c>).
/// </summary>
internal static class DurationParser
{
    /// <returns>The length in ticks, or null with <paramref name="problem"/> saying why the text is not a duration.</returns>
    public static long? Parse(string? text, out string problem)
    {
        problem = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "is empty";
            return null;
        }

        if (TryUnits(text!, out var ticks))
        {
            return ticks;
        }

        if (TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out var span))
        {
            return span.Ticks;
        }

        problem = "is not a duration";
        return null;
    }

    /// <summary>Checks that a parsed duration is usable: positive.</summary>
    public static string? CheckPositive(long ticks) => ticks <= 0 ? "is not positive" : null;

    private static bool TryUnits(string text, out long ticks)
    {
        ticks = 0;
        var i = 0;
        var negative = false;
        if (text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            i++;
        }

        var any = false;
        while (i < text.Length)
        {
            var start = i;
            var value = 0L;
            while (i < text.Length && text[i] >= '0' && text[i] <= '9')
            {
                value = (value * 10) + (text[i] - '0');
                i++;
            }

            if (i == start || i - start > 9)
            {
                return false;
            }

            long unit;
            if (string.CompareOrdinal(text, i, "ms", 0, 2) == 0)
            {
                unit = TimeSpan.TicksPerMillisecond;
                i += 2;
            }
            else if (i < text.Length && text[i] is 'd' or 'h' or 'm' or 's')
            {
                unit = text[i] switch
                {
                    'd' => TimeSpan.TicksPerDay,
                    'h' => TimeSpan.TicksPerHour,
                    'm' => TimeSpan.TicksPerMinute,
                    _ => TimeSpan.TicksPerSecond,
                };
                i++;
            }
            else
            {
                return false;
            }

            ticks += value * unit;
            any = true;
        }

        ticks = negative ? -ticks : ticks;
        return any;
    }
}
