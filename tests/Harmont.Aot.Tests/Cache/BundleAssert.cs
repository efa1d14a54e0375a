using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>What every refused import must leave: exit 2, one line naming the problem and the fix, and an untouched cache.</summary>
internal static class BundleAssert
{
    public static void OneLineUsageError(RunOutcome outcome)
    {
        Assert.True(outcome.ExitCode == 2, outcome.ToString());
        var error = outcome.Error.TrimEnd('\n');
        Assert.True(error.StartsWith("harmont: error: ", StringComparison.Ordinal) && !error.Contains('\n', StringComparison.Ordinal), outcome.ToString());
        Assert.DoesNotContain("   at ", outcome.ToString(), StringComparison.Ordinal);
    }

    public static void NothingImported(RunHarness harness, RunOutcome outcome)
    {
        OneLineUsageError(outcome);
        Assert.Contains("nothing was imported", outcome.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(new CacheStore(harness.Cache, TimeProvider.System).List());
        Assert.Empty(Children(Path.Combine(harness.Cache, "entries")));
        Assert.Empty(Children(Path.Combine(harness.Cache, "staging")));
    }

    public static string[] Children(string directory) => Directory.Exists(directory) ? Directory.GetFileSystemEntries(directory) : [];
}
