namespace Harmont.Aot.Tests;

/// <summary>The test's own git calls on a harness source tree: a repository with one commit, and later commits.</summary>
internal static class GitRepo
{
    /// <summary>Writes <paramref name="files"/> and commits them as a new repository.</summary>
    public static async Task InitAsync(RunHarness harness, params (string Path, string Content)[] files)
    {
        ArgumentNullException.ThrowIfNull(harness);
        foreach (var (path, content) in files)
        {
            harness.WriteSource(path, content);
        }

        await RunAsync(harness, "init", "-q");
        await RunAsync(harness, "add", "-A");
        await RunAsync(harness, "commit", "-qm", "initial");
    }

    /// <summary>Runs git in the harness's source tree, failing the test when git fails.</summary>
    public static async Task RunAsync(RunHarness harness, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(harness);
        var (code, output) = await Exec.RunAsync(
            "git", ["-c", "user.name=t", "-c", "user.email=t@example.com", .. args], harness.Source, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(code == 0).IsTrue().Because($"git {string.Join(' ', args)}: {output}");
    }
}
