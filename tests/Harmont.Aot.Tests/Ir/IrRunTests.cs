using Harmont.Aot.Ir;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Ir;

/// <summary>A pipeline read from harmont-py's steps-list IR runs like a compiled one: lineage carries the workspace, a wait orders.</summary>
[NotInParallel(nameof(IrRunTests))]
public sealed class IrRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
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

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("use")).IsEquivalentTo((IEnumerable<string>)["made", "hi there"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("after")).IsEquivalentTo((IEnumerable<string>)["clean"], CollectionOrdering.Matching);
        await Assert.That(run.EndOf("use").At <= run.StartOf("after").At).IsTrue().Because(run.ToString());
    }
}
