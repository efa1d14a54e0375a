using System.Text;
using ConsoleAppFramework;

namespace Harmont.Aot.Cli;

/// <summary>
/// What the parser itself says (help, version, parse errors), caught per invocation. The parser writes through
/// one process-wide delegate, <c>ConsoleApp.Log</c>; routing it through an <see cref="AsyncLocal{T}"/> keeps
/// invocations side by side in one process (the test host) from reading each other's words.
/// </summary>
internal sealed class ParserOutput
{
    private static readonly AsyncLocal<ParserOutput?> Current = new();

    static ParserOutput()
    {
        ConsoleApp.Log = static message => Write(message, error: false);
        ConsoleApp.LogError = static message => Write(message, error: true);

        // SignalCancellation owns Ctrl-C; the parser's own give-up-after-a-signal timer must never fire.
        ConsoleApp.Timeout = Timeout.InfiniteTimeSpan;
    }

    private ParserOutput()
    {
    }

    /// <summary>Help and version text.</summary>
    public StringBuilder Text { get; } = new();

    /// <summary>Parse errors, or an exception that escaped a verb.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Runs <paramref name="parse"/> with everything the parser writes caught here.</summary>
    public static async Task<ParserOutput> CaptureAsync(Func<Task> parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var output = new ParserOutput();
        var outer = Current.Value;
        Current.Value = output;
        try
        {
            await parse();
        }
        finally
        {
            Current.Value = outer;
        }

        return output;
    }

    private static void Write(string message, bool error)
    {
        if (Current.Value is not { } output)
        {
            (error ? Console.Error : Console.Out).WriteLine(message);
        }
        else if (error)
        {
            output.Errors.Add(message);
        }
        else
        {
            output.Text.Append(message).Append('\n');
        }
    }
}
