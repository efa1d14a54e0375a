using Harmont.Aot.Cli;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Host;

namespace Harmont.Aot.Tests;

/// <summary><c>doctor</c> says how host steps get their stable path here, and why; a forced mode is named or refused.</summary>
[NotInParallel(nameof(HostIsolationDoctorTests))]
public sealed class HostIsolationDoctorTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("harmont-host-doctor-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Test]
    [Property("Requires", "root")]
    public async Task Doctor_as_root_says_host_steps_run_in_parallel_in_their_own_mount_namespaces()
    {
        var (exitCode, output) = Doctor();

        await Assert.That(exitCode == 0).IsTrue().Because(output);
        await Assert.That(output)
            .Contains($"host steps: each pipeline's workspace at one path, {Path.Combine(_cache, "work", "host")}/", StringComparison.Ordinal);
        await Assert.That(output.ReplaceLineEndings("\n"))
            .Contains("host isolation: namespace, steps run in parallel (a private mount namespace per step)\n", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(Path.Combine(_cache, "work"))).IsEmpty();
    }

    [Test]
    public async Task Doctor_names_a_forced_serial_mode_and_refuses_an_unknown_one()
    {
        var serial = Doctor((HostIsolation.EnvironmentVariable, "serial"));
        var bogus = Doctor((HostIsolation.EnvironmentVariable, "chroot"));

        await Assert.That(serial.ExitCode == 0).IsTrue().Because(serial.Output);
        await Assert.That(serial.Output)
            .Contains("host isolation: serial, a pipeline's host steps run one at a time (set by HARMONT_HOST_ISOLATION)", StringComparison.Ordinal);
        await Assert.That(bogus.ExitCode).IsEqualTo(2);
        await Assert.That(bogus.Output)
            .Contains("HARMONT_HOST_ISOLATION='chroot' is not a host isolation; use namespace or serial", StringComparison.Ordinal);
    }

    [Test]
    [Property("Requires", "root")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Doctor_as_a_non_root_user_gets_a_user_namespace_and_says_what_that_costs(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        File.SetUnixFileMode(_cache, (UnixFileMode)0x1FF);

        var (exitCode, output) = await Exec.RunAsync(
            "runuser", ["-u", "nobody", "--", "env", $"HARMONT_CACHE_DIR={_cache}", published.Binary, "doctor"], "/tmp", cancellationToken);

        await Assert.That(exitCode == 0).IsTrue().Because(output);
        await Assert.That(output)
            .Matches(@"(?m)^host isolation: namespace, steps run in parallel \(bwrap: .*inside a user namespace \(setuid programs such as sudo cannot raise privileges there\)");
    }

    private (int ExitCode, string Output) Doctor(params (string Name, string Value)[] env)
    {
        var output = new StringWriter();
        string? GetEnv(string name) =>
            name == "HARMONT_CACHE_DIR" ? _cache
            : name == "HARMONT_WORK_DIR" ? null
            : env.Any(e => e.Name == name) ? env.First(e => e.Name == name).Value
            : name.StartsWith("HARMONT_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(name);
        var context = new CliContext(output, output, _cache, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        return (DoctorCommand.Execute(context), output.ToString());
    }
}
