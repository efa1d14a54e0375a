namespace Harmont.Aot.Tests;

/// <summary>Publishes a real pipeline program as a native-AOT binary and runs it against the Docker engine.</summary>
[Trait("Requires", "docker")]
public sealed class AotBinaryTests
{
    [Fact]
    public async Task Pipeline_publishes_as_a_warning_free_native_binary_that_runs_steps_in_docker()
    {
        await BusyboxImage.EnsureAsync();
        var cancel = TestContext.Current.CancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.DoesNotMatch(@"warning IL[23]\d{3}", publish.Output);

        var binary = publish.Binary;
        Assert.True(File.Exists(binary), $"no binary at {binary}:\n{publish.Output}");
        var magic = new byte[4];
        await using (var stream = File.OpenRead(binary))
        {
            await stream.ReadExactlyAsync(magic, cancel);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), magic);
        Assert.Empty(Directory.GetFiles(publish.Directory, "*.dll"));

        var work = Directory.CreateTempSubdirectory("harmont-aot-run-").FullName;
        try
        {
            var run = await Exec.RunAsync(binary, ["smoke", "--runner", "docker", "-j", "2", "--repo", work], work, cancel, ("HARMONT_CACHE_DIR", Path.Combine(work, ".cache")));
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
}
