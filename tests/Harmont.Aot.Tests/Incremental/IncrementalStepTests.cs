using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Incremental;

/// <summary>
/// Incremental steps on the host backend (docs/workspaces.md#incremental-steps): after a one-file edit, make
/// recompiles that file only and the program passes its test; a changed definition, parent or project,
/// and --no-incremental, give a clean build.
/// </summary>
[Property("Requires", "root")]
[NotInParallel(nameof(IncrementalStepTests))]
public sealed class IncrementalStepTests
{
    private static readonly string[] All = CProject.Units;

    [Test]
    public async Task After_a_one_file_edit_make_recompiles_only_that_file_and_the_program_passes()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        var first = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host));
        await Assert.That(CProject.Passed(first)).IsTrue().Because(first.ToString());
        await Assert.That(CProject.Compiled(first)).IsEquivalentTo(All, CollectionOrdering.Any);

        CProject.EditB(harness, 5);
        var second = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host));
        await Assert.That(CProject.Passed(second)).IsTrue().Because(second.ToString());
        await Assert.That(CProject.StartedIncrementally(second)).IsTrue().Because(second.ToString());
        await Assert.That(CProject.Compiled(second)).IsEquivalentTo((IEnumerable<string>)["b"], CollectionOrdering.Any);

        // Nothing changed: make has nothing to compile, and the program still passes.
        var third = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host));
        await Assert.That(CProject.Passed(third)).IsTrue().Because(third.ToString());
        await Assert.That(CProject.Compiled(third)).IsEmpty();
    }

    [Test]
    public async Task A_removed_source_file_is_gone_from_the_previous_output()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        harness.WriteSource("extra.txt", "x\n");
        var pipeline = CProject.Pipeline(Aot.Runner.Host, build: "make test && ls extra.txt 2>/dev/null || echo extra-gone");
        await Assert.That(CProject.Passed(await harness.RunAsync(pipeline))).IsTrue();

        File.Delete(Path.Combine(harness.Source, "extra.txt"));
        var second = await harness.RunAsync(pipeline);
        await Assert.That(CProject.StartedIncrementally(second)).IsTrue().Because(second.ToString());
        await Assert.That(second.LogsOf("build")).Contains("extra-gone");
    }

    [Test]
    public async Task A_changed_step_definition_builds_clean()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        await Assert.That(CProject.Passed(await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host)))).IsTrue();

        var changed = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host, build: "make test CFLAGS=-O1"));
        await Assert.That(CProject.Passed(changed)).IsTrue().Because(changed.ToString());
        await Assert.That(CProject.StartedIncrementally(changed)).IsFalse();
        await Assert.That(CProject.Compiled(changed)).IsEquivalentTo(All, CollectionOrdering.Any);
    }

    [Test]
    public async Task A_changed_parent_builds_clean()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        await Assert.That(CProject.Passed(await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host)))).IsTrue();

        var changed = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host, configure: "echo configured differently > configured.txt"));
        await Assert.That(CProject.Passed(changed)).IsTrue().Because(changed.ToString());
        await Assert.That(changed.LogsOf("build").Any(l => l.Contains("clean run: its definition, image, backend or parent changed", StringComparison.Ordinal))).IsTrue();
        await Assert.That(CProject.Compiled(changed)).IsEquivalentTo(All, CollectionOrdering.Any);
    }

    [Test]
    public async Task Another_project_never_starts_from_this_ones_output()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        await Assert.That(CProject.Passed(await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host, project: "one")))).IsTrue();

        var other = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host, project: "two"));
        await Assert.That(CProject.Passed(other)).IsTrue().Because(other.ToString());
        await Assert.That(CProject.Compiled(other)).IsEquivalentTo(All, CollectionOrdering.Any);
    }

    [Test]
    [Arguments("flag")]
    [Arguments("env")]
    public async Task No_incremental_builds_clean_and_the_next_run_starts_from_that_output(string how)
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        await Assert.That(CProject.Passed(await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host)))).IsTrue();

        CProject.EditB(harness, 7);
        if (how == "env")
        {
            harness.Env["HARMONT_NO_INCREMENTAL"] = "1";
        }

        var clean = how == "flag"
            ? await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host), "--no-incremental")
            : await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host));
        await Assert.That(CProject.Passed(clean)).IsTrue().Because(clean.ToString());
        await Assert.That(CProject.Compiled(clean)).IsEquivalentTo(All, CollectionOrdering.Any);

        harness.Env.Remove("HARMONT_NO_INCREMENTAL");
        var next = await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host));
        await Assert.That(CProject.StartedIncrementally(next)).IsTrue().Because(next.ToString());
        await Assert.That(CProject.Compiled(next)).IsEmpty();
    }

    [Test]
    public async Task The_last_output_of_an_uncached_step_is_one_entry_replaced_each_run()
    {
        using var harness = new RunHarness();
        CProject.Write(harness);
        for (var b = 2; b < 5; b++)
        {
            CProject.EditB(harness, b);
            await Assert.That(CProject.Passed(await harness.RunAsync(CProject.Pipeline(Aot.Runner.Host)))).IsTrue();
        }

        var listing = await harness.RunAsync([], ["cache", "ls"]);
        var buildEntries = listing.Output.Split('\n').Count(l => l.Contains("inc/build (last output)", StringComparison.Ordinal));
        await Assert.That(buildEntries).IsEqualTo(1).Because(listing.Output);
    }
}
