namespace Harmont.Aot.Events;

/// <summary>Picks the renderer: NDJSON when asked, the live view on a terminal, plain lines elsewhere.</summary>
internal static class OutputMode
{
    /// <param name="format">Human output, or NDJSON.</param>
    /// <param name="forceLogs"><c>--logs</c>: plain lines even on a terminal.</param>
    /// <param name="output">Where events go (stdout).</param>
    /// <param name="isTerminal">Whether stdout is a terminal.</param>
    /// <param name="getEnv">Environment lookup (CI, GITHUB_ACTIONS, TERM).</param>
    public static IRunEventSink Create(OutputFormat format, bool forceLogs, TextWriter output, bool isTerminal, Func<string, string?> getEnv)
    {
        if (format == OutputFormat.Json)
        {
            return new JsonRenderer(output);
        }

        var gitHub = getEnv("GITHUB_ACTIONS") == "true";
        var ci = !string.IsNullOrEmpty(getEnv("CI"));
        var dumb = getEnv("TERM") is null or "dumb";
        if (forceLogs || !isTerminal || ci || gitHub || dumb)
        {
            return new PlainRenderer(output, gitHub);
        }

        return new TtyRenderer(output, static () => Console.WindowWidth);
    }
}

/// <summary>What <c>run --format</c> writes on stdout.</summary>
internal enum OutputFormat
{
    /// <summary>The live view on a terminal, plain prefixed lines elsewhere.</summary>
    Human,

    /// <summary>NDJSON events, and nothing else.</summary>
    Json,
}
