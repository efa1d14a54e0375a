using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>What every refused import must leave: exit 2, one line naming the problem and the fix, and an untouched cache.</summary>
internal static class BundleAssert
{
    public static async Task OneLineUsageError(RunOutcome outcome)
    {
        await Assert.That(outcome.ExitCode == 2).IsTrue().Because(outcome.ToString());
        var error = outcome.Error.TrimEnd('\n');
        await Assert.That(error.StartsWith("harmont: error: ", StringComparison.Ordinal) && !error.Contains('\n', StringComparison.Ordinal))
            .IsTrue()
            .Because(outcome.ToString());
        await Assert.That(outcome.ToString()).DoesNotContain("   at ", StringComparison.Ordinal);
    }

    public static async Task NothingImported(RunHarness harness, RunOutcome outcome)
    {
        await OneLineUsageError(outcome);
        await Assert.That(outcome.Error).Contains("nothing was imported", StringComparison.OrdinalIgnoreCase);
        await Assert.That(new CacheStore(harness.Cache, TimeProvider.System).List()).IsEmpty();
        await Assert.That(Children(Path.Combine(harness.Cache, "entries"))).IsEmpty();
        await Assert.That(Children(Path.Combine(harness.Cache, "staging"))).IsEmpty();
    }

    public static string[] Children(string directory) => Directory.Exists(directory) ? Directory.GetFileSystemEntries(directory) : [];
}
