using System.Diagnostics;

namespace Harmont.Aot.Tests;

/// <summary>Publishes a real pipeline program as a native-AOT binary and runs it against the Docker engine.</summary>
[Trait("Requires", "docker")]
public sealed class AotBinaryTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("harmont-aot-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public async Task Pipeline_publishes_as_a_warning_free_native_binary_that_runs_steps_in_docker()
    {
        await BusyboxImage.EnsureAsync();
        var repo = RepoRoot();
        var cancel = TestContext.Current.CancellationToken;

        // net9.0: the net10.0 NativeAOT runtime pack is not in this machine's registry copy.
        var publish = await Exec.RunAsync(
            "dotnet",
            ["publish", Path.Combine(repo, "tests", "aot-smoke", "smoke.cs"), "-p:HarmontTargetFramework=net9.0", "-p:HarmontPublishAot=true", "-o", _out, "-nologo"],
            repo,
            cancel);
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.DoesNotMatch(@"warning IL[23]\d{3}", publish.Output);

        var binary = Path.Combine(_out, "smoke");
        Assert.True(File.Exists(binary), $"no binary at {binary}:\n{publish.Output}");
        var magic = new byte[4];
        await using (var stream = File.OpenRead(binary))
        {
            await stream.ReadExactlyAsync(magic, cancel);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), magic);
        Assert.Empty(Directory.GetFiles(_out, "*.dll"));

        var work = Directory.CreateTempSubdirectory("harmont-aot-run-").FullName;
        try
        {
            var run = await Exec.RunAsync(binary, ["--runner", "docker", "-j", "2"], work, cancel, ("HARMONT_CACHE_DIR", Path.Combine(work, ".cache")));
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Matches(@"\[left\s*\] prepared", run.Output);
            Assert.Matches(@"\[left\s*\] system-state", run.Output);
            Assert.Matches(@"\[right\s*\] right by aot on Unix", run.Output);

            var list = await Exec.RunAsync(binary, ["list"], work, cancel);
            Assert.True(list.ExitCode == 0, list.Output);
            Assert.Matches(@"(?m)^  right\s+from prepare$", list.Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string RepoRoot()
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
}
