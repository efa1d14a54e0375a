using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// A run with cache hits gives what a cold run gives (docs/workspaces.md): a hit's child starts from the cached
/// output plus only the source delta since the entry, so what a cached step did to source files that have
/// not changed since (./configure rewriting a tracked Makefile) survives the hit.
/// </summary>
[NotInParallel(nameof(CacheFidelityTests))]
public sealed class CacheFidelityTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task A_step_that_rewrites_a_tracked_file_keeps_its_output_when_it_hits_after_an_unrelated_edit()
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var pipeline = Pipeline(
            "gen",
            Runner.Host,
            Cached("gen", "echo generated > gen.txt", null, OnChange("gen.txt")),
            Step("show", "cat gen.txt", "gen"));
        var first = await _harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        _harness.WriteSource("other.txt", "v2\n");
        await GitRepo.RunAsync(_harness, "commit", "-qam", "unrelated edit");
        var cached = await _harness.RunAsync(pipeline);
        var cold = await ColdRunAsync(pipeline);

        await Assert.That(cached.Hit("gen")).IsTrue().Because(cached.ToString());
        await Assert.That(cold.LogsOf("show")).IsEquivalentTo((IEnumerable<string>)["generated"], CollectionOrdering.Matching);
        await Assert.That(cached.LogsOf("show")).IsEquivalentTo(cold.LogsOf("show"), CollectionOrdering.Matching);
    }

    [Test]
    public async Task An_in_tree_configure_make_install_chain_after_a_c_edit_matches_a_cold_run(CancellationToken cancellationToken)
    {
        // Shaped like zlib: a tracked Makefile that only says to configure first, which configure rewrites.
        await GitRepo.InitAsync(_harness, 
            ("Makefile", "all:\n\t-@echo \"Please use ./configure first.  Thank you.\"\n"),
            ("Makefile.in", "CC=cc\nlibz.a: adler32.o crc32.o\n\tar rcs libz.a adler32.o crc32.o\nadler32.o: adler32.c\n\t$(CC) -c adler32.c\ncrc32.o: crc32.c\n\t$(CC) -c crc32.c\ninstall: libz.a\n\tmkdir -p prefix/lib && cp libz.a prefix/lib/\n"),
            ("configure", "#!/bin/sh\ncp Makefile.in Makefile\necho configured\n"),
            ("adler32.c", "int adler32(void) { return 1; }\n"),
            ("crc32.c", "int crc32(void) { return 2; }\n"));
        await Exec.RunAsync("chmod", ["+x", "configure"], _harness.Source, cancellationToken);
        await GitRepo.RunAsync(_harness, "commit", "-qam", "executable configure");
        var pipeline = Pipeline(
            "zlib",
            Runner.Host,
            Cached("configure", "./configure", null, OnChange("configure", "Makefile.in")),
            Cached("make", "make libz.a && nm libz.a | grep -c ' T '", "configure", OnChange("*.c")),
            Step("install", "make install && ls prefix/lib", "make"));
        var first = await _harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        _harness.WriteSource("adler32.c", "int adler32(void) { return 42; }\n");
        await GitRepo.RunAsync(_harness, "commit", "-qam", "one-line edit");
        var cached = await _harness.RunAsync(pipeline);
        var cold = await ColdRunAsync(pipeline);

        await Assert.That(cached.ExitCode == 0).IsTrue().Because(cached.ToString());
        await Assert.That(cached.Hit("configure")).IsTrue().Because(cached.ToString());
        await Assert.That(cached.Executed).IsEquivalentTo((IEnumerable<string>)["make", "install"], CollectionOrdering.Matching);
        await Assert.That(cold.LogsOf("make")).Contains("2");
        await Assert.That(cached.LogsOf("make").Where(l => !l.StartsWith("cc ", StringComparison.Ordinal)))
            .IsEquivalentTo(cold.LogsOf("make").Where(l => !l.StartsWith("cc ", StringComparison.Ordinal)), CollectionOrdering.Matching);
        await Assert.That(cached.LogsOf("install").Where(l => l == "libz.a"))
            .IsEquivalentTo((IEnumerable<string>)["libz.a"], CollectionOrdering.Matching);
        await Assert.That(cached.LogsOf("make")).DoesNotContain(l => l.Contains("Please use ./configure first", StringComparison.Ordinal));
    }

    [Test]
    public async Task Explain_warns_when_a_changed_source_file_is_one_the_cached_step_had_itself_rewritten()
    {
        await GitRepo.InitAsync(_harness, ("gen.txt", "source\n"), ("other.txt", "v1\n"));
        var pipeline = Pipeline(
            "gen",
            Runner.Host,
            Cached("gen", "echo generated > gen.txt", null, Forever()),
            Step("show", "cat gen.txt", "gen"));
        await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);
        _harness.WriteSource("other.txt", "v2\n");
        var unrelated = await _harness.RunAsync([pipeline], ["explain"]);
        await Assert.That(unrelated.Output).DoesNotContain("warning:", StringComparison.Ordinal);

        _harness.WriteSource("gen.txt", "edited by the user\n");
        var explain = await _harness.RunAsync([pipeline], ["explain"]);
        var run = await _harness.RunAsync(pipeline, "--explain");

        await Assert.That(explain.Output).Contains("warning: 'gen.txt' changed in the source since step 'gen' was cached", StringComparison.Ordinal);
        await Assert.That(run.Hit("gen")).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("show")).IsEquivalentTo((IEnumerable<string>)["edited by the user"], CollectionOrdering.Matching);
        await Assert.That(run.Output).Contains("warning: 'gen.txt' changed in the source since step 'gen' was cached", StringComparison.Ordinal);
        await Assert.That(run.LogsOf("gen")).Contains(l => l.StartsWith("harmont: warning: 'gen.txt'", StringComparison.Ordinal));
    }

    private async Task<RunOutcome> ColdRunAsync(PipelineDefinition pipeline)
    {
        var empty = Path.Combine(_harness.Root, $"cold-cache-{Guid.NewGuid():N}");
        _harness.Env["HARMONT_CACHE_DIR"] = empty;
        try
        {
            var cold = await _harness.RunAsync(pipeline);
            await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
            await Assert.That(cold.Executed.Order(StringComparer.Ordinal).OrderBy(k => pipeline.Steps.ToList().FindIndex(s => s.Key == k)))
                .IsEquivalentTo(pipeline.Steps.Select(s => s.Key), CollectionOrdering.Matching);
            return cold;
        }
        finally
        {
            _harness.Env.Remove("HARMONT_CACHE_DIR");
        }
    }
}
