using Harmont.Aot.Ir;

namespace Harmont.Aot.Tests.Ir;

/// <summary>A pipeline read from harmont-py's steps-list IR runs like a compiled one: lineage carries the workspace, a wait orders.</summary>
public sealed class IrRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Steps_list_ir_runs_on_the_host_with_lineage_env_and_a_wait_barrier()
    {
        var path = Path.Combine(_harness.Root, "ci.json");
        File.WriteAllText(path, """
            {"version": "0", "env": {"GREETING": "hi"}, "steps": [
              {"type": "command", "key": "make", "cmd": "echo made > made.txt", "builds_in": null},
              {"type": "command", "key": "use", "cmd": "cat made.txt && echo \"$GREETING $WHO\"", "builds_in": "make", "env": {"WHO": "there"}},
              {"type": "wait"},
              {"type": "command", "key": "after", "cmd": "test ! -e made.txt && echo clean", "builds_in": null}
            ]}
            """);

        var run = await _harness.RunAsync(IrDocument.Load(path, new IrReadOptions(_harness.Source)), "--runner", "host");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["made", "hi there"], run.LogsOf("use"));
        Assert.Equal(["clean"], run.LogsOf("after"));
        Assert.True(run.EndOf("use").At <= run.StartOf("after").At, run.ToString());
    }
}
