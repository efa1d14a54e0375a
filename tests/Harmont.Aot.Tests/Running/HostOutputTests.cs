using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>The host reads a step's output as the Docker backend does: memory stays bounded whatever the step prints.</summary>
[NotInParallel(nameof(HostOutputTests))]
public sealed class HostOutputTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task A_long_host_output_line_arrives_in_bounded_pieces()
    {
        var run = await _harness.RunAsync(LongLineHost.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        var logs = run.LogsOf("print");
        await Assert.That(logs[^1]).IsEqualTo("done");
        await Assert.That(string.Concat(logs.SkipLast(1))).IsEqualTo(new string('x', 200_000));
        foreach (var piece in logs)
        {
            await Assert.That(piece.Length).IsBetween(1, LineSplitter.DefaultMaxLineChars);
        }
    }
}
