using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Harmont.Aot.Bench;

/// <summary>
/// What it costs to start a trivial host step (<c>sh -c true</c>, waited for) with its workspace at a
/// stable path, each way the host backend could do it, against today's plain start in the workspace.
/// Variants alternate round by round so the machine's changing load falls on all alike; medians per start.
/// </summary>
public static partial class HostStepStart
{
    private const int StartsPerRound = 20;

    public static void Run(int rounds)
    {
        var root = Directory.CreateTempSubdirectory("harmont-host-start-").FullName;
        var workspace = Directory.CreateDirectory(Path.Combine(root, "run", "ws", "001-step")).FullName;
        var stable = Directory.CreateDirectory(Path.Combine(root, "host", "0123456789abcdef")).FullName;
        try
        {
            var variants = new (string Name, Action Start)[]
            {
                ("plain sh in the workspace (today, no stable path)", () => Wait(Start("sh", workspace, "-c", "true"))),
                ("bwrap --dev-bind / / --bind ws stable", () => Wait(Start("bwrap", "/", "--dev-bind", "/", "/", "--bind", workspace, stable, "--chdir", stable, "--", "sh", "-c", "true"))),
                ("bwrap --unshare-user (the unprivileged route)", () => Wait(Start("bwrap", "/", "--unshare-user", "--dev-bind", "/", "/", "--bind", workspace, stable, "--chdir", stable, "--", "sh", "-c", "true"))),
                ("unshare(1) -m + mount(8) --bind + sh", () => Wait(Start("unshare", "/", "-m", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$0\" \"$1\" && cd \"$1\" && exec sh -c true", workspace, stable))),
                ("in-process: thread unshare(CLONE_NEWNS) + bind", () => Wait(StartInThreadNamespace(workspace, stable))),
            };
            foreach (var (_, start) in variants)
            {
                start(); // warm-up: JIT, page cache
            }

            var samples = variants.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                var order = round % 2 == 0 ? Enumerable.Range(0, variants.Length) : Enumerable.Range(0, variants.Length).Reverse();
                foreach (var i in order)
                {
                    var clock = Stopwatch.StartNew();
                    for (var n = 0; n < StartsPerRound; n++)
                    {
                        variants[i].Start();
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
                    CultureInfo.InvariantCulture, $"{variants[i].Name,-52} {median,7:0.00} ms   +{median - baseline,5:0.00} ms over plain"));
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

    private static void Wait(Process process)
    {
        using (process)
        {
            process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{process.StartInfo.FileName} exited {process.ExitCode}: {error}");
            }
        }
    }

    // The route the backend does not take: a dedicated thread leaves the shared mount namespace and
    // forks from there. Measured to know what the child-side helpers cost against it.
    private static Process StartInThreadNamespace(string workspace, string stable)
    {
        Process? started = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Check(Unshare(0x00020000), "unshare"); // CLONE_NEWNS
                Check(Mount(null, "/", null, 0x40000 | 0x4000, 0), "make-rprivate"); // MS_PRIVATE | MS_REC
                Check(Mount(workspace, stable, null, 0x1000 | 0x4000, 0), "bind"); // MS_BIND | MS_REC
                started = Start("sh", stable, "-c", "true");
            }
            catch (InvalidOperationException ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        return started ?? throw new InvalidOperationException("in-thread start failed", failure);
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{what}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string? source, string target, string? type, nuint flags, nint data);
}
