using System.Diagnostics;
using System.Globalization;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Bench;

/// <summary>
/// What it costs to start a trivial host step (<c>sh -c true</c>, waited for) with its workspace at a
/// stable path, each way the host backend could do it, against today's plain start in the workspace.
/// Variants alternate round by round so the machine's changing load falls on all alike; medians per start.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class HostStepStart
{
    private const int StartsPerRound = 20;

    // Every variant proves the workspace is where it started: the marker file is there.
    private const string Probe = "test -e marker";

    public static void Run(int rounds)
    {
        var root = Directory.CreateTempSubdirectory("harmont-host-start-").FullName;
        var workspace = Directory.CreateDirectory(Path.Combine(root, "run", "ws", "001-step")).FullName;
        var stable = Directory.CreateDirectory(Path.Combine(root, "host", "0123456789abcdef")).FullName;
        File.WriteAllText(Path.Combine(workspace, "marker"), "");
        try
        {
            var variants = new (string Name, Func<bool> Start)[]
            {
                ("plain sh in the workspace (before: no stable path)", () => Wait(Start("sh", workspace, "-c", Probe))),
                ("bwrap --dev-bind / / --bind ws stable", () => Wait(Start("bwrap", "/", "--dev-bind", "/", "/", "--bind", workspace, stable, "--chdir", stable, "--", "sh", "-c", Probe))),
                ("bwrap --unshare-user (the unprivileged route)", () => Wait(Start("bwrap", "/", "--unshare-user", "--dev-bind", "/", "/", "--bind", workspace, stable, "--chdir", stable, "--", "sh", "-c", Probe))),
                ("unshare(1) -m + mount(8) --bind + sh", () => Wait(Start("unshare", "/", "-m", "--propagation", "slave", "--", "sh", "-c", $"mount --bind \"$0\" \"$1\" && cd \"$1\" && exec sh -c '{Probe}'", workspace, stable))),
                ("in-process: thread unshare(CLONE_NEWNS) + bind", () => Wait(StartInThreadNamespace(workspace, stable))),
            };
            foreach (var (_, start) in variants)
            {
                _ = start(); // warm-up: JIT, page cache
            }

            var samples = variants.Select(_ => new List<double>()).ToArray();
            var failures = new int[variants.Length];
            for (var round = 0; round < rounds; round++)
            {
                var order = round % 2 == 0 ? Enumerable.Range(0, variants.Length) : Enumerable.Range(0, variants.Length).Reverse();
                foreach (var i in order)
                {
                    var clock = Stopwatch.StartNew();
                    for (var n = 0; n < StartsPerRound; n++)
                    {
                        failures[i] += variants[i].Start() ? 0 : 1;
                    }

                    samples[i].Add(clock.Elapsed.TotalMilliseconds / StartsPerRound);
                }
            }

            Console.WriteLine($"== host step start: {rounds} alternating rounds of {StartsPerRound} starts; median ms per start ==");
            var baseline = Median(samples[0]);
            for (var i = 0; i < variants.Length; i++)
            {
                var median = Median(samples[i]);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture, $"{variants[i].Name,-52} {median,7:0.00} ms   +{median - baseline,5:0.00} ms over plain   {failures[i]} failed starts"));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static Process Start(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi)!;
    }

    // A failed start is counted, not fatal: bwrap's setup races with mounts coming and going on the
    // machine (containers/bubblewrap#650), and how often that happens is part of the measurement.
    private static bool Wait(Process process)
    {
        using (process)
        {
            process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"{process.StartInfo.FileName} exited {process.ExitCode}: {error.Trim()}");
            }

            return process.ExitCode == 0;
        }
    }

    // The product's root route: a dedicated thread leaves the mount namespace, binds, and forks.
    private static Process StartInThreadNamespace(string workspace, string stable)
    {
        var (error, process, _) = NamespacedStart.StartAsync(workspace, stable, () => Start("sh", stable, "-c", Probe)).GetAwaiter().GetResult();
        return error == Errno.None ? process! : throw new InvalidOperationException($"namespace: {error}");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
