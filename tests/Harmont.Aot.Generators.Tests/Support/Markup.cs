using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Harmont.Aot.Generators.Tests.Support;

/// <summary>Test source with expected diagnostic spans marked as <c>[|...|]</c>; the markers are stripped.</summary>
public sealed record Markup(string Source, IReadOnlyList<TextSpan> Spans)
{
    private const string Open = "[|";
    private const string Close = "|]";

    public static Markup Parse(string marked)
    {
        var source = new StringBuilder(marked.Length);
        var spans = new List<TextSpan>();
        var starts = new Stack<int>();
        for (var i = 0; i < marked.Length; i++)
        {
            if (string.CompareOrdinal(marked, i, Open, 0, Open.Length) == 0)
            {
                starts.Push(source.Length);
                i++;
            }
            else if (string.CompareOrdinal(marked, i, Close, 0, Close.Length) == 0)
            {
                var start = starts.Pop();
                spans.Add(TextSpan.FromBounds(start, source.Length));
                i++;
            }
            else
            {
                source.Append(marked[i]);
            }
        }

        if (starts.Count > 0)
        {
            throw new ArgumentException("Unclosed [| marker in test source.", nameof(marked));
        }

        spans.Sort((a, b) => a.Start.CompareTo(b.Start));
        return new Markup(source.ToString(), spans);
    }
}
