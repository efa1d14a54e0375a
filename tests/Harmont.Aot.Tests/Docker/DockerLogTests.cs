using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

// Hostile output from a real container; bench/docker-logs/measure-log-memory.sh does the same at 1 GiB.
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerLogTests))]
public sealed class DockerLogTests : IDisposable
{
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-logs-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    public async Task Binary_stdout_and_an_endless_stderr_line_arrive_apart_and_in_bounded_pieces(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync();
        const int LongLine = 200_000;

        var result = await backend.RunAsync(
            new StepInvocation(
                $"test-{Guid.NewGuid():N}", "noisy",
                $"head -c 1000000 /dev/urandom; yes x | head -n {LongLine} | tr -d '\\n' >&2; echo done",
                _workspace, BusyboxImage.Image, [], KeepSnapshot: false, Record),
            cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(0);
        var stderr = _log.Where(e => e.Stream == LogStream.Stderr).Select(e => e.Line).ToList();
        await Assert.That(string.Concat(stderr)).IsEqualTo(new string('x', LongLine));
        foreach (var piece in stderr)
        {
            await Assert.That(piece.Length).IsBetween(1, LineSplitter.DefaultMaxLineChars);
        }
        var stdout = _log.Where(e => e.Stream == LogStream.Stdout).Select(e => e.Line).ToList();
        await Assert.That(stdout[^1]).EndsWith("done", StringComparison.Ordinal);
        foreach (var line in stdout)
        {
            await Assert.That(line.Length).IsBetween(0, LineSplitter.DefaultMaxLineChars);
        }

        // A million random bytes hold about 3900 newlines; invalid UTF-8 is replaced, never thrown on.
        await Assert.That(stdout.Count).IsBetween(3000, 5000);
        await Assert.That(stdout).Contains(line => line.Contains('\uFFFD', StringComparison.Ordinal));
    }

    private void Record(LogStream stream, string line)
    {
        lock (_log)
        {
            _log.Add((stream, line));
        }
    }
}
