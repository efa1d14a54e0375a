namespace Harmont.Aot.Tests;

/// <summary>
/// tests/aot-smoke/smoke.cs published once per test run as a native-AOT binary (a file-based program
/// publishes AOT by default). Several tests drive the real binary.
/// </summary>
public static class AotSmoke
{
    private static readonly Lazy<Task<Published>> Publish = new(PublishOnceAsync);

    public static Task<Published> PublishedAsync() => Publish.Value;

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harmont.Aot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Harmont.Aot.sln) was not found above the test assembly");
    }

    private static async Task<Published> PublishOnceAsync()
    {
        var repo = RepoRoot();
        var output = Path.Combine(Path.GetTempPath(), $"harmont-aot-smoke-{Environment.ProcessId}");
        var (exitCode, text) = await Exec.RunAsync(
            "dotnet",
            ["publish", Path.Combine(repo, "tests", "aot-smoke", "smoke.cs"), "-o", output, "-nologo"],
            repo,
            CancellationToken.None);
        return new Published(Path.Combine(output, "smoke"), output, exitCode, text);
    }

    /// <summary>The publish's result: the binary, its folder, and what <c>dotnet publish</c> said.</summary>
    public sealed record Published(string Binary, string Directory, int ExitCode, string Output);
}
