using System.Text;

namespace Harmont.Aot.Generators.Emitting;

/// <summary>Writes generated C# with four-space indentation and '\n' line ends on every platform.</summary>
internal sealed class SourceBuilder
{
    private readonly StringBuilder _text = new();
    private int _depth;

    public SourceBuilder Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _depth * 4).Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/> (when given) and an opening brace, then indents.</summary>
    public SourceBuilder Open(string? header = null)
    {
        if (header is not null)
        {
            Line(header);
        }

        Line("{");
        _depth++;
        return this;
    }

    /// <summary>Unindents and writes a closing brace followed by <paramref name="suffix"/> (",", ";").</summary>
    public SourceBuilder Close(string suffix = "")
    {
        _depth--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
