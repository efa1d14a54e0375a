using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Harmont.Aot.Cache;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary><c>stats</c> and <c>tune</c>: read a pipeline's recorded runs and report on them. Neither runs a step.</summary>
internal static class TuningCommands
{
    internal static Task<int> StatsAsync(IReadOnlyList<PipelineDefinition> pipelines, TuningRequest request, CliContext context) =>
        WithRunsAsync(pipelines, request, context, async (slug, runs, _) =>
        {
            var report = RunStats.Compute(slug, runs);
            await context.Out.WriteAsync(request.Json
                ? Json(report, TuningJsonContext.Default.StatsReport)
                : TuningText.Stats(report));
        });

    internal static Task<int> TuneAsync(IReadOnlyList<PipelineDefinition> pipelines, TuningRequest request, CliContext context) =>
        WithRunsAsync(pipelines, request, context, async (slug, runs, recordPath) =>
        {
            var inputs = new TuneInputs
            {
                Runs = runs,
                Files = RunRecord.Load(recordPath)?.Files ?? [],
                ForcedStrategy = context.GetEnv(WorkspaceStrategies.EnvironmentVariable) is { Length: > 0 } forced ? forced : null,
            };
            var report = TuneAdvisor.Advise(slug, Probed(inputs));
            await context.Out.WriteAsync(request.Json
                ? Json(report, TuningJsonContext.Default.TuneReport)
                : TuningText.Tune(report));
        });

    // One line, with quotes and arrows as written: the change is meant to be read and pasted.
    private static string Json<T>(T value, JsonTypeInfo<T> type)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(json, value, type);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    // doctor's probe, run only when the newest run used copy or kept its work dir off the cache's filesystem.
    private static TuneInputs Probed(TuneInputs inputs)
    {
        var latest = inputs.Runs.LastOrDefault(r => r.Facts?.Strategy is not null)?.Facts;
        if (!OperatingSystem.IsLinux() || latest is null || (latest.Strategy != WorkspaceStrategies.Copy && latest.SameFileSystem != false))
        {
            return inputs;
        }

        IReadOnlyList<StrategyProbe>? Probe(string? directory) =>
            directory is not null && Directory.Exists(directory) ? WorkspaceStrategies.ProbeAllMeasured(directory, _ => null) : null;
        return inputs with
        {
            WorkDirProbes = Probe(latest.WorkDir),
            CacheDirProbes = latest.SameFileSystem == false ? Probe(latest.CacheDir) : null,
        };
    }

    private static async Task<int> WithRunsAsync(
        IReadOnlyList<PipelineDefinition> pipelines, TuningRequest request, CliContext context, Func<string, List<RunRecord>, string, Task> report)
    {
        if (request.Last is < 1)
        {
            throw new PipelineException($"--last takes a number of runs, at least 1, like --last 20, not {request.Last}.");
        }

        var keep = RunHistory.Keep(context.GetEnv);
        var root = SourceRepository.Resolve(request.Repo, context);
        var pipeline = IrSource.Choose(pipelines, request.Ir, request.Pipeline, root, context);
        var directories = HarmontDirectories.FromEnvironment(context.GetEnv);
        var project = await ProjectIdentity.ResolveAsync(pipeline.Project, root, context.Cancellation);
        var recordPath = RunRecord.PathFor(directories.Cache, project, pipeline.Slug);
        var runs = RunHistory.Load(recordPath, request.Last ?? int.MaxValue);
        if (runs.Count == 0 && !request.Json)
        {
            await context.Out.WriteLineAsync(
                $"no run of pipeline '{pipeline.Slug}' is recorded in {directories.Cache} yet{(keep == 0 ? $" ({RunHistory.KeepVariable}=0 keeps none)" : "")}: run it, then ask again.");
            return ExitCodes.Passed;
        }

        await report(pipeline.Slug, runs, recordPath);
        return ExitCodes.Passed;
    }
}

/// <summary>What <c>stats</c> or <c>tune</c> was asked: how many runs, JSON or text, and which pipeline.</summary>
internal sealed record TuningRequest(int? Last, bool Json, string? Pipeline, string? Ir, string? Repo);
