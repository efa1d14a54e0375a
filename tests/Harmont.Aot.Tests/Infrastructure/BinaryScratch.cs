namespace Harmont.Aot.Tests;

/// <summary>
/// A scratch directory for driving the published native binary as a shell would: a git repository holding
/// <c>marker.txt</c>, a directory outside any repository, a host-runner IR document whose one step prints the
/// marker, and an environment with a private cache and no Docker engine.
/// </summary>
public sealed class BinaryScratch : IDisposable
{
    public BinaryScratch(string prefix, string stepKey, string marker, string docName)
    {
        Root = Directory.CreateTempSubdirectory(prefix).FullName;
        Directory.CreateDirectory(Repo);
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Repo, "marker.txt"), marker);
        Exec.RunAsync("git", ["init", "-q"], Repo, CancellationToken.None).GetAwaiter().GetResult();
        Doc = Path.Combine(Root, docName);
        File.WriteAllText(Doc, $$"""{"version": "0", "runner": "host", "steps": [{"type": "command", "key": "{{stepKey}}", "cmd": "cat marker.txt"}]}""");
    }

    public string Root { get; }

    public string Repo => Path.Combine(Root, "repo");

    public string Outside => Path.Combine(Root, "outside");

    public string Doc { get; }

    /// <summary>A private cache, and a Docker socket that does not exist.</summary>
    public (string, string)[] Env =>
        [("HARMONT_CACHE_DIR", Path.Combine(Root, "cache")), ("DOCKER_HOST", $"unix://{Root}/no-engine.sock")];

    /// <summary>The published binary; a failed publish fails the test.</summary>
    public static async Task<string> PublishedAsync()
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        return published.Binary;
    }

    /// <summary>Runs the binary in <paramref name="workingDirectory"/> with <see cref="Env"/>.</summary>
    public async Task<CliResult> RunAsync(string workingDirectory, string[] args) =>
        await CliProcess.RunAsync(await PublishedAsync(), workingDirectory, args, Env);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
