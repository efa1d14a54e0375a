using System.Globalization;
using Harmont.Aot.Runners.Host;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary>
/// <c>doctor</c>: what this machine offers a run: every workspace strategy on the work dir's filesystem, and how host
/// steps get their stable path; with <c>--bench</c>, also the runner's own settings measured there.
/// </summary>
internal static class DoctorCommand
{
    internal static int Execute(CliContext context, bool bench = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        var workDir = HarmontDirectories.FromEnvironment(context.GetEnv).Work;
        var output = context.Out;
        output.WriteLine($"work dir: {workDir} ({WorkspaceStrategies.FileSystemName(Existing(workDir))})");
        output.WriteLine("workspace strategies, in order of preference (time: one workspace from a 200-file probe tree):");

        var probes = WorkspaceStrategies.ProbeAllMeasured(workDir, context.GetEnv);
        var width = probes.Max(p => p.Name.Length);
        foreach (var probe in probes)
        {
            var state = probe.Available ? "available" : "unavailable";
            var time = probe.PrepareTime is { } t ? t.TotalMilliseconds.ToString("0.00", CultureInfo.InvariantCulture) + " ms" : "-";
            output.WriteLine($"  {probe.Name.PadRight(width)}  {state,-11}  {time,10}  {probe.Reason}");
        }

        // A part that fails is said and the rest still reported; a cancel is not a part's, and stops the verb.
        var part = new FailureScope(CancellationToken.None);
        var exitCode = 0;
        try
        {
            var chosen = WorkspaceStrategies.ForWorkDir(workDir, context.GetEnv, TextWriter.Null);
            var why = !string.IsNullOrWhiteSpace(context.GetEnv(WorkspaceStrategies.EnvironmentVariable))
                ? $" (set by {WorkspaceStrategies.EnvironmentVariable})"
                : chosen.Name == WorkspaceStrategies.Copy ? " (the slow fallback: nothing faster works here)" : "";
            output.WriteLine($"run will use: {chosen.Name}{why}");
        }
        catch (Exception ex) when (CliFailures.Describe(ex, part) is { } failure)
        {
            exitCode = Report(failure, context);
        }

        output.WriteLine($"host steps: each pipeline's workspace at one path, {Path.Combine(workDir, StableWorkspace.Folder)}/<hash of project and pipeline>");
        try
        {
            var isolation = HostIsolation.ProbeAsync(workDir, context.GetEnv, context.Cancellation).GetAwaiter().GetResult();
            output.WriteLine(isolation.IsNamespace
                ? $"host isolation: namespace, steps run in parallel ({isolation.Reason})"
                : $"host isolation: serial, a pipeline's host steps run one at a time ({isolation.Reason})");
        }
        catch (Exception ex) when (CliFailures.Describe(ex, part) is { } failure)
        {
            exitCode = Report(failure, context);
        }

        if (bench)
        {
            var reflink = probes.Any(p => p.Name == WorkspaceStrategies.Reflink && p.Available);
            var measuring = part with
            {
                FileProblem = message => $"doctor --bench cannot measure in {workDir}: {message}; free space there or point HARMONT_WORK_DIR at a writable disk.",
            };
            try
            {
                WriteBench(output, DiskBench.RunAsync(workDir, reflink, context.Cancellation).GetAwaiter().GetResult());
            }
            catch (Exception ex) when (CliFailures.Describe(ex, measuring) is { } failure)
            {
                exitCode = Report(failure, context);
            }
        }

        return exitCode;
    }

    private static int Report(CliFailure failure, CliContext context)
    {
        context.Error.WriteLine(failure.Line);
        return failure.ExitCode;
    }

    private static void WriteBench(TextWriter output, DiskBenchResult result)
    {
        var megabytes = (result.Bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);
        output.WriteLine(
            $"runner settings measured in the work dir ({result.Files}-file probe tree, {megabytes} MiB, {(result.Reflink ? "reflinked" : "copied")}; " +
            $"medians of up to {DiskBench.Rounds} alternating rounds; a run uses the defaults):");
        var width = result.Tunables.Max(t => t.Name.Length);
        var pickWidth = result.Tunables.Max(t => t.Pick.Length);
        foreach (var tunable in result.Tunables)
        {
            var rounds = tunable.Rounds == 1 ? "1 round" : $"{tunable.Rounds} rounds";
            var figures = string.Join("  ", tunable.Figures.Select(f => $"{f.Label}: {Milliseconds(f.Median)}"));
            output.WriteLine($"  {tunable.Name.PadRight(width)}  would pick {tunable.Pick.PadRight(pickWidth)}  (default {tunable.Default}; {tunable.Why})");
            if (figures.Length > 0)
            {
                output.WriteLine($"  {new string(' ', width)}  {figures}  ({rounds})");
            }
        }
    }

    private static string Milliseconds(TimeSpan time) => time.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private static string Existing(string path)
    {
        Directory.CreateDirectory(path);
        return path;
    }
}
