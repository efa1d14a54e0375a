using System.Globalization;
using System.Text;

namespace Harmont.Aot.Model;

/// <summary>Writes a duration the way the DSL reads one: <c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>7d</c>.</summary>
internal static class DurationNotation
{
    public static string Format(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return duration.ToString("c", CultureInfo.InvariantCulture);
        }

        var text = new StringBuilder();
        Append(text, duration.Days, "d");
        Append(text, duration.Hours, "h");
        Append(text, duration.Minutes, "m");
        Append(text, duration.Seconds, "s");
        Append(text, duration.Milliseconds, "ms");
        return text.Length == 0 ? duration.ToString("c", CultureInfo.InvariantCulture) : text.ToString();
    }

    private static void Append(StringBuilder text, int value, string unit)
    {
        if (value > 0)
        {
            text.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
    }
}
