using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>The host reads a step's output as the Docker backend does: memory stays bounded whatever the step prints.</summary>
public sealed class HostOutputTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_long_host_output_line_arrives_in_bounded_pieces()
    {
        var run = await _harness.RunAsync(LongLineHost.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        var logs = run.LogsOf("print");
        Assert.Equal("done", logs[^1]);
        Assert.Equal(new string('x', 200_000), string.Concat(logs.SkipLast(1)));
        Assert.All(logs, piece => Assert.InRange(piece.Length, 1, LineSplitter.DefaultMaxLineChars));
    }
}
