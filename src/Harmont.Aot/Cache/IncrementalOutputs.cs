using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cache;

/// <summary>
/// The last outputs incremental steps start from (docs/workspaces.md#incremental-steps). For each project,
/// pipeline and step, <c>incremental/&lt;slot&gt;</c> in the cache dir names one entry: the step's cache entry when
/// the step is cached, else an entry of its own that only this lookup reads. A previous output is used only
/// when the step's lineage is the same as when it was made: its definition (command, image, env, cwd,
/// runner), its backend, and its parent's key or, for an uncached parent, the parent's own lineage.
/// </summary>
internal sealed class IncrementalOutputs
{
    private const string Header = "harmont-incremental 1";
    private const int MaxPointerBytes = 512;
    private readonly StepCache _cache;
    private readonly string _directory;
    private readonly string _project;
    private readonly string _pipeline;
    private readonly Dictionary<string, string> _lineages = new(StringComparer.Ordinal);

    /// <param name="cacheRoot">The cache dir; pointers live in its <c>incremental/</c>.</param>
    /// <param name="pipeline">The pipeline whose steps' lineages are computed now.</param>
    /// <param name="cache">The run's cache: its plan gives parents' keys, and it leases and records entries.</param>
    /// <param name="clean">Whether incremental steps run clean this time (<c>--no-incremental</c>); their outputs are still kept.</param>
    public IncrementalOutputs(string cacheRoot, PipelineDefinition pipeline, StepCache cache, bool clean)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(cache);
        _cache = cache;
        _directory = Path.Combine(cacheRoot, "incremental");
        _project = cache.Plan.Project;
        _pipeline = pipeline.Slug;
        Clean = clean;
        var byKey = pipeline.Steps.ToDictionary(s => s.Key, StringComparer.Ordinal);
        string LineageOf(StepDefinition step)
        {
            if (_lineages.TryGetValue(step.Key, out var known))
            {
                return known;
            }

            var parent = step.From is { } from ? cache.Plan[from].Key ?? "lineage-" + LineageOf(byKey[from]) : "scratch";
            var definition = step.DefinitionHash ?? StepDefinitionHash.Compute(pipeline, step, cache.Plan[step.Key].Command);
            return _lineages[step.Key] = CacheKey.Hash("harmont-incremental-1", _project, _pipeline, step.Key, definition, parent);
        }

        foreach (var step in pipeline.Steps)
        {
            LineageOf(step);
        }
    }

    /// <summary>Whether incremental steps run clean this time.</summary>
    public bool Clean { get; }

    /// <summary>
    /// The step's last output when it can start from it, leased until the run ends; otherwise null and why
    /// the step runs clean.
    /// </summary>
    public (CacheHit? Output, string Why) Open(string step, string backend, Func<string> workspaceStrategy)
    {
        if (Clean)
        {
            return (null, "--no-incremental (or HARMONT_NO_INCREMENTAL) asks for a clean run");
        }

        if (ReadPointer(step) is not { } pointer)
        {
            return (null, "it has no last output yet");
        }

        if (pointer.Lineage != Lineage(step, backend))
        {
            return (null, "its definition, image, backend or parent changed since its last output was made");
        }

        return _cache.OpenOutput(pointer.Entry, backend, workspaceStrategy) is { } output
            ? (output, "")
            : (null, "its last output is no longer in the cache");
    }

    /// <summary>
    /// Makes the step's output (just passed) its last output: its cache entry <paramref name="recorded"/> when it
    /// has one, else a new entry of its own. The output it replaces, if one of its own, is removed when the run
    /// lets go of its entries.
    /// </summary>
    public async Task SaveAsync(string step, string backend, string? recorded, RecordedOutput output, CancellationToken cancellationToken)
    {
        var previous = ReadPointer(step);
        var entry = recorded;
        if (entry is null)
        {
            entry = CacheKey.Hash("harmont-incremental-output", Lineage(step, backend), Guid.NewGuid().ToString("N"));
            if (!await _cache.RecordOutputAsync(entry, step, backend, output, cancellationToken))
            {
                return;
            }
        }

        WritePointer(step, new Pointer(Lineage(step, backend), entry, recorded is null));
        if (previous is { Own: true } old && old.Entry != entry)
        {
            _cache.Condemn(old.Entry);
        }
    }

    private string Lineage(string step, string backend) => CacheKey.Hash(_lineages[step], backend);

    private string PointerPath(string step) => Path.Combine(_directory, CacheKey.Hash(_project, _pipeline, step));

    // The pointer is hostile like any file under the cache dir: bounded, and every field checked before use.
    private Pointer? ReadPointer(string step)
    {
        try
        {
            using var stream = new FileStream(PointerPath(step), FileMode.Open, FileAccess.Read, FileShare.Read);
            var buffer = new byte[MaxPointerBytes];
            var length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            var lines = Encoding.ASCII.GetString(buffer, 0, length).Split('\n');
            return lines.Length >= 4 && lines[0] == Header && CacheEntryRules.IsKey(lines[1]) && CacheEntryRules.IsKey(lines[2]) && lines[3] is "own" or "entry"
                ? new Pointer(lines[1], lines[2], lines[3] == "own")
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Written beside and renamed over: a reader sees the old pointer or the new one, never half of one.
    private void WritePointer(string step, Pointer pointer)
    {
        Directory.CreateDirectory(_directory);
        var path = PointerPath(step);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, $"{Header}\n{pointer.Lineage}\n{pointer.Entry}\n{(pointer.Own ? "own" : "entry")}\n", Encoding.ASCII);
        File.Move(temporary, path, overwrite: true);
    }

    private sealed record Pointer(string Lineage, string Entry, bool Own);
}
