using System.Text;

namespace Harmont.Aot.Events;

/// <summary>
/// Keeps each step's output in a temporary file, so a renderer can replay it later (a GitHub group,
/// a failed step's log) without holding a chatty step's output in memory.
/// </summary>
internal sealed class LogSpool : IDisposable
{
    private readonly Dictionary<string, StreamWriter> _writers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _paths = new(StringComparer.Ordinal);

    public void Append(string step, string line)
    {
        if (!_writers.TryGetValue(step, out var writer))
        {
            var path = Path.Combine(Path.GetTempPath(), $"harmont-log-{Guid.NewGuid():N}.txt");
            writer = new StreamWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024), new UTF8Encoding(false));
            _writers[step] = writer;
            _paths[step] = path;
        }

        writer.WriteLine(line);
    }

    /// <summary>Writes the step's lines to <paramref name="output"/>, each through <paramref name="format"/>.</summary>
    public void Replay(string step, TextWriter output, Func<string, string> format)
    {
        if (!_writers.TryGetValue(step, out var writer))
        {
            return;
        }

        writer.Flush();
        using var reader = new StreamReader(new FileStream(_paths[step], FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (reader.ReadLine() is { } line)
        {
            output.WriteLine(format(line));
        }
    }

    public void Dispose()
    {
        foreach (var (step, writer) in _writers)
        {
            writer.Dispose();
            File.Delete(_paths[step]);
        }

        _writers.Clear();
    }
}
