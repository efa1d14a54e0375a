using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Incremental;

/// <summary>
/// An incremental make step in Docker, on a Debian image with gcc: the container starts from the parent's image
/// with the step's last output plus the edit as its workspace, and make recompiles the edited file only.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerIncrementalTests))]
public sealed class DockerIncrementalTests : IAsyncDisposable
{
    private readonly RunHarness _harness = new();

    [Before(Test)]
    public async Task InitializeAsync() => await DebianGccImage.EnsureAsync();

    public async ValueTask DisposeAsync()
    {
        await _harness.RunAsync([], ["cache", "clean"]);
        _harness.Dispose();
    }

    [Test]
    public async Task After_a_one_c_file_edit_make_recompiles_only_that_file_and_the_binary_passes_its_test()
    {
        CProject.Write(_harness);
        var pipeline = CProject.Pipeline(Aot.Runner.Docker, DebianGccImage.Image, configure: "echo configured > configured.txt && echo system > /etc/configured");
        var first = await _harness.RunAsync(pipeline);
        await Assert.That(CProject.Passed(first)).IsTrue().Because(first.ToString());
        await Assert.That(CProject.Compiled(first)).IsEquivalentTo(CProject.Units, CollectionOrdering.Any);

        CProject.EditB(_harness, 9);
        var second = await _harness.RunAsync(pipeline);
        await Assert.That(CProject.Passed(second)).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("configure")).IsTrue();
        await Assert.That(CProject.StartedIncrementally(second)).IsTrue().Because(second.ToString());
        await Assert.That(CProject.Compiled(second)).IsEquivalentTo((IEnumerable<string>)["b"], CollectionOrdering.Any);
        await Assert.That(second.LogsOf("build")).Contains("cc -o app a.o b.o c.o main.o");
    }

    [Test]
    public async Task The_incremental_step_runs_on_its_parents_new_image()
    {
        CProject.Write(_harness);
        var build = "make test && cat /etc/configured";
        await Assert.That(CProject.Passed(await _harness.RunAsync(CProject.Pipeline(
            Aot.Runner.Docker, DebianGccImage.Image, configure: "echo v1 > /etc/configured", build: build)))).IsTrue();

        // The parent changed, so the build is clean, and it sees the parent's new system state.
        var changed = await _harness.RunAsync(CProject.Pipeline(Aot.Runner.Docker, DebianGccImage.Image, configure: "echo v2 > /etc/configured", build: build));
        await Assert.That(CProject.Passed(changed)).IsTrue().Because(changed.ToString());
        await Assert.That(changed.LogsOf("build")).Contains("v2");
        await Assert.That(CProject.Compiled(changed)).IsEquivalentTo(CProject.Units, CollectionOrdering.Any);
    }
}
