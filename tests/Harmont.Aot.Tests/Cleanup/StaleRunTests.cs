namespace Harmont.Aot.Tests;

[NotInParallel(nameof(StaleRunTests))]
public sealed class StaleRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Startup_removes_work_dirs_of_dead_runs_and_keeps_live_runs_and_foreign_dirs(CancellationToken cancellationToken)
    {
        _harness.WriteSource("source.txt", "from-source\n");
        var dead = Directory.CreateDirectory(Path.Combine(_harness.WorkDir, "run-20200101-000000-dead00")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dead, ".lock"), "", cancellationToken);
        Directory.CreateDirectory(Path.Combine(dead, "ws", "001-build", "obj"));
        var live = Directory.CreateDirectory(Path.Combine(_harness.WorkDir, "run-20200101-000000-live00")).FullName;
        var foreign = Directory.CreateDirectory(Path.Combine(_harness.WorkDir, "notes")).FullName;

        // A concurrent run holds its lock for as long as it lives.
        using (new FileStream(Path.Combine(live, ".lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            var run = await _harness.RunAsync(HostChain.Definition);

            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
            await Assert.That(run.Error).Contains("removed 1 work dir(s) left by runs that ended abnormally", StringComparison.Ordinal);
        }

        await Assert.That(Directory.Exists(dead)).IsFalse();
        await Assert.That(Directory.Exists(live)).IsTrue();
        await Assert.That(Directory.Exists(foreign)).IsTrue();
    }
}
