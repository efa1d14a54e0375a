using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

// Hostile output from a real container; bench/docker-logs/measure-log-memory.sh does the same at 1 GiB.
[Trait("Requires", "docker")]
public sealed class DockerLogTests : IDisposable
{
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-logs-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Fact]
    public async Task Binary_stdout_and_an_endless_stderr_line_arrive_apart_and_in_bounded_pieces()
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync();
        const int LongLine = 200_000;

        var result = await backend.RunAsync(
            new StepInvocation(
                $"test-{Guid.NewGuid():N}", "noisy",
                $"head -c 1000000 /dev/urandom; yes x | head -n {LongLine} | tr -d '\\n' >&2; echo done",
                _workspace, BusyboxImage.Image, [], KeepSnapshot: false, Record),
            Ct);

        Assert.Equal(0, result.ExitCode);
        var stderr = _log.Where(e => e.Stream == LogStream.Stderr).Select(e => e.Line).ToList();
        Assert.Equal(new string('x', LongLine), string.Concat(stderr));
        Assert.All(stderr, piece => Assert.InRange(piece.Length, 1, LineSplitter.DefaultMaxLineChars));
        var stdout = _log.Where(e => e.Stream == LogStream.Stdout).Select(e => e.Line).ToList();
        Assert.EndsWith("done", stdout[^1], StringComparison.Ordinal);
        Assert.All(stdout, line => Assert.InRange(line.Length, 0, LineSplitter.DefaultMaxLineChars));

        // A million random bytes hold about 3900 newlines; invalid UTF-8 is replaced, never thrown on.
        Assert.InRange(stdout.Count, 3000, 5000);
        Assert.Contains(stdout, line => line.Contains('\uFFFD', StringComparison.Ordinal));
    }

    private void Record(LogStream stream, string line)
    {
        lock (_log)
        {
            _log.Add((stream, line));
        }
    }
}
