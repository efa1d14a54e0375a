using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>Publishes a real pipeline program as a native-AOT binary and runs it against the Docker engine.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(AotBinaryTests))]
public sealed class AotBinaryTests
{
    [Test]
    public async Task Pipeline_publishes_as_a_warning_free_native_binary_that_runs_steps_in_docker(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        var cancel = cancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        await Assert.That(publish.ExitCode == 0).IsTrue().Because(publish.Output);
        await Assert.That(publish.Output).DoesNotMatch(@"warning IL[23]\d{3}");

        var binary = publish.Binary;
        await Assert.That(File.Exists(binary)).IsTrue().Because($"no binary at {binary}:\n{publish.Output}");
        var magic = new byte[4];
        await using (var stream = File.OpenRead(binary))
        {
            await stream.ReadExactlyAsync(magic, cancel);
        }

        await Assert.That(magic).IsEquivalentTo("\u007fELF"u8.ToArray(), CollectionOrdering.Matching);
        await Assert.That(Directory.GetFiles(publish.Directory, "*.dll")).IsEmpty();

        var work = Directory.CreateTempSubdirectory("harmont-aot-run-").FullName;
        try
        {
            var run = await Exec.RunAsync(binary, ["smoke", "--runner", "docker", "-j", "2", "--repo", work], work, cancel, ("HARMONT_CACHE_DIR", Path.Combine(work, ".cache")));
            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.Output);
            await Assert.That(run.Output).Matches(@"\[left\s*\] prepared");
            await Assert.That(run.Output).Matches(@"\[left\s*\] system-state");
            await Assert.That(run.Output).Matches(@"\[right\s*\] right by aot on Unix");

            var list = await Exec.RunAsync(binary, ["list"], work, cancel);
            await Assert.That(list.ExitCode == 0).IsTrue().Because(list.Output);
            await Assert.That(list.Output).Matches(@"(?m)^  right\s+from prepare$");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
