using Harmont.Aot.Cli;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Host;

namespace Harmont.Aot.Tests;

/// <summary><c>doctor</c> says how host steps get their stable path here, and why; a forced mode is named or refused.</summary>
public sealed class HostIsolationDoctorTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("harmont-host-doctor-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Fact]
    [Trait("Requires", "root")]
    public void Doctor_as_root_says_host_steps_run_in_parallel_in_their_own_mount_namespaces()
    {
        var (exitCode, output) = Doctor();

        Assert.True(exitCode == 0, output);
        Assert.Contains($"host steps: each pipeline's workspace at one path, {Path.Combine(_cache, "work", "host")}/", output, StringComparison.Ordinal);
        Assert.Contains("host isolation: namespace, steps run in parallel (a private mount namespace per step)\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_cache, "work")));
    }

    [Fact]
    public void Doctor_names_a_forced_serial_mode_and_refuses_an_unknown_one()
    {
        var serial = Doctor((HostIsolation.EnvironmentVariable, "serial"));
        var bogus = Doctor((HostIsolation.EnvironmentVariable, "chroot"));

        Assert.True(serial.ExitCode == 0, serial.Output);
        Assert.Contains("host isolation: serial, a pipeline's host steps run one at a time (set by HARMONT_HOST_ISOLATION)", serial.Output, StringComparison.Ordinal);
        Assert.Equal(2, bogus.ExitCode);
        Assert.Contains("HARMONT_HOST_ISOLATION='chroot' is not a host isolation; use namespace or serial", bogus.Output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requires", "root")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Doctor_as_a_non_root_user_gets_a_user_namespace_and_says_what_that_costs()
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        File.SetUnixFileMode(_cache, (UnixFileMode)0x1FF);

        var (exitCode, output) = await Exec.RunAsync(
            "runuser", ["-u", "nobody", "--", "env", $"HARMONT_CACHE_DIR={_cache}", published.Binary, "doctor"], "/tmp", TestContext.Current.CancellationToken);

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"(?m)^host isolation: namespace, steps run in parallel \(bwrap: .*inside a user namespace \(setuid programs such as sudo cannot raise privileges there\)", output);
    }

    private (int ExitCode, string Output) Doctor(params (string Name, string Value)[] env)
    {
        var output = new StringWriter();
        string? GetEnv(string name) =>
            name == "HARMONT_CACHE_DIR" ? _cache
            : name == "HARMONT_WORK_DIR" ? null
            : env.Any(e => e.Name == name) ? env.First(e => e.Name == name).Value
            : name.StartsWith("HARMONT_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(name);
        var context = new CliContext(output, output, _cache, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current.CancellationToken);
        return (DoctorCommand.Execute(context), output.ToString());
    }
}
