using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using Harmont.Aot.Scheduling;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary><c>cache ls | prune | clean | export | import</c>: look after the step cache.</summary>
internal static class CacheCommand
{
    /// <summary><c>cache ls</c>: a line per entry, newest use first, then the totals.</summary>
    public static int List(CliContext context) => WithStore(context, store =>
    {
        var now = DateTimeOffset.UtcNow;
        var listings = store.List().OrderByDescending(l => l.LastUsed).ToList();
        context.Out.WriteLine($"{"KEY",-16}  {"STEP",-30}  {"SIZE",10}  {"AGE",5}  {"USED",5}");
        foreach (var l in listings)
        {
            // An incremental step's last output is an entry like any other, but never a hit.
            var step = $"{l.Entry.Pipeline}/{l.Entry.Step}{(l.Entry.Components.ContainsKey("incremental") ? " (last output)" : "")}";
            context.Out.WriteLine(
                $"{l.Entry.Key[..16]}  {step,-30}  {CacheUnits.FormatSize(l.Entry.Size),10}  {CacheUnits.FormatAge(now - l.Entry.Created),5}  {CacheUnits.FormatAge(now - l.LastUsed),5}");
        }

        var mounts = new CacheMountStore(store.Root, context.Clock).List().OrderByDescending(m => m.LastUsed).ToList();
        foreach (var m in mounts)
        {
            var id = $"mount {m.Id}";
            context.Out.WriteLine($"{"(cache mount)",-16}  {id,-30}  {CacheUnits.FormatSize(m.Size),10}  {"",5}  {CacheUnits.FormatAge(now - m.LastUsed),5}");
        }

        context.Out.WriteLine($"{listings.Count} entries, {CacheUnits.FormatSize(listings.Sum(l => l.Entry.Size))} in {store.Root}");
        if (mounts.Count > 0)
        {
            context.Out.WriteLine($"{mounts.Count} cache mount(s), {CacheUnits.FormatSize(mounts.Sum(m => m.Size))}");
        }
        var (staged, stagedBytes, dead) = store.StagingUsage();
        if (staged > 0)
        {
            context.Out.WriteLine(
                $"staging: {staged} dir(s), {CacheUnits.FormatSize(stagedBytes)}" +
                (dead > 0 ? $", {dead} left by writers that ended abnormally (the next run or 'cache prune' removes them)" : ", being written"));
        }

        return 0;
    });

    /// <summary><c>cache prune</c>: entries unused for <paramref name="olderThan"/>, then the least recently used entries and cache mounts down to the bound.</summary>
    public static Task<int> PruneAsync(CliContext context, string? olderThan, string? maxSize) => WithStoreAsync(context, async store =>
    {
        var removed = new List<CacheListing>();
        var kept = new List<CacheListing>();
        if (olderThan is not null)
        {
            removed.AddRange(store.Prune(CacheUnits.ParseAge(olderThan, "--older-than"), kept));
        }

        // The same accounting as eviction after a run: entries and cache mounts count toward one bound.
        var eviction = store.EvictToFit(MaxBytes(context, maxSize), kept);
        removed.AddRange(eviction.Entries);
        foreach (var l in removed)
        {
            context.Out.WriteLine($"removed {l.Entry.Key[..16]} {l.Entry.Pipeline}/{l.Entry.Step} ({CacheUnits.FormatSize(l.Entry.Size)})");
        }

        foreach (var m in eviction.Mounts)
        {
            context.Out.WriteLine($"removed cache mount {m.Id} ({CacheUnits.FormatSize(m.Size)})");
        }

        var inUse = kept.Select(l => l.Entry.Key).Distinct(StringComparer.Ordinal).Count();
        var mounts = eviction.MountsCounted > 0 ? $" and {eviction.Mounts.Count} cache mount(s)" : "";
        context.Out.WriteLine(
            $"{removed.Count} entries{mounts} removed{(inUse > 0 ? $", {inUse} in use by a run kept" : "")}" +
            (eviction.KeptMounts.Count > 0 ? $", {eviction.KeptMounts.Count} cache mount(s) in use by a step kept" : ""));
        SweepStaging(context, store);
        await CleanEngineAsync(context, store, removed);
        return 0;
    });

    /// <summary><c>cache clean</c>: every entry no run is using.</summary>
    public static Task<int> CleanAsync(CliContext context) => WithStoreAsync(context, async store =>
    {
        var listings = store.List();
        var removed = listings.Where(l => store.TryRemove(l.Entry.Key)).ToList();
        context.Out.WriteLine($"{removed.Count} entries removed{(removed.Count < listings.Count ? $", {listings.Count - removed.Count} in use by a run kept" : "")}");
        var mountStore = new CacheMountStore(store.Root, context.Clock);
        var mounts = mountStore.List();
        if (mounts.Count > 0)
        {
            var gone = mounts.Count(m => mountStore.TryRemove(m.Id));
            context.Out.WriteLine($"{gone} cache mount(s) removed{(gone < mounts.Count ? $", {mounts.Count - gone} in use by a step kept" : "")}");
        }
        SweepStaging(context, store);
        await CleanEngineAsync(context, store, removed);
        return 0;
    });

    /// <summary><c>cache export FILE</c>: every entry into one bundle.</summary>
    public static Task<int> ExportAsync(CliContext context, string file) => WithStoreAsync(context, async store =>
    {
        var count = await CacheBundle.ExportAsync(store, file, context.Cancellation);
        context.Out.WriteLine($"exported {count} entries to {file}");
        return 0;
    });

    /// <summary><c>cache import FILE</c>: a bundle's entries, keeping those already present.</summary>
    public static Task<int> ImportAsync(CliContext context, string file) => WithStoreAsync(context, async store =>
    {
        if (!File.Exists(file))
        {
            throw new PipelineException($"cache import: no file at {file}; pass the bundle 'cache export' wrote.");
        }

        var count = await CacheBundle.ImportAsync(store, file, context.Cancellation);
        context.Out.WriteLine($"imported {count} entries from {file}");
        return 0;
    });

    // Only a dead writer's staging goes: a live run or import is filling the rest.
    private static void SweepStaging(CliContext context, CacheStore store)
    {
        var problems = new List<string>();
        var swept = store.SweepStaging(problems);
        if (swept > 0)
        {
            context.Out.WriteLine($"removed {swept} staging dir(s) left by writers that ended abnormally");
        }

        foreach (var problem in problems)
        {
            context.Error.WriteLine($"harmont: cleanup: {problem}");
        }
    }

    // Entries of Docker steps own an image each; it goes with the entry when an engine answers. Cache tags
    // whose entry is gone (an image a container used when its entry went) are collected too.
    private static async Task CleanEngineAsync(CliContext context, CacheStore store, IReadOnlyList<CacheListing> removed)
    {
        var needed = removed.Any(l => l.Entry.Image is not null);
        IStepBackend? backend;
        try
        {
            backend = await context.Docker.ConnectAsync(context.Cancellation);
        }
        catch (Exception ex) when (!needed && ex is PipelineException or EngineUnavailableException)
        {
            return; // No engine to tidy, and none was needed.
        }
        catch (EngineUnavailableException ex)
        {
            await context.Error.WriteLineAsync($"harmont: {ex.Message}; the images of removed entries stay ({DockerNames.CacheRepository(OwnerLock.Label(store.Root))}:<key>).");
            return;
        }

        await using (backend)
        {
            if (backend is not DockerBackend docker)
            {
                if (needed)
                {
                    await context.Error.WriteLineAsync(
                        $"harmont: no Docker engine answered at {context.Docker.Endpoint}; the images of removed entries stay ({DockerNames.CacheRepository(OwnerLock.Label(store.Root))}:<key>).");
                }

                return;
            }

            // The removed entries' names are this cache dir's own; another cache dir's on the engine stay, and with them its images.
            docker.CacheLabel = OwnerLock.Label(store.Root);
            await CachePlanning.RemoveImagesAsync(removed, docker, context.Error);
            try
            {
                var owners = new Lazy<IReadOnlyDictionary<string, IReadOnlyList<string>>>(store.ImageOwners);
                var orphans = await DockerGarbage.CollectOrphanTagsAsync(
                    docker.Client, docker.CacheLabel, store.Contains, id => owners.Value.GetValueOrDefault(id) ?? [], null, context.Cancellation);
                if (orphans.Count > 0)
                {
                    context.Out.WriteLine($"removed {orphans.Count} cache tag(s) whose entries were gone");
                }
            }
            catch (DockerEngineException ex)
            {
                await context.Error.WriteLineAsync($"harmont: cache tags not collected: {ex.Message}");
            }
        }
    }

    internal static long MaxBytes(CliContext context, string? option) =>
        option is not null ? CacheUnits.ParseSize(option, "--max-size")
        : context.GetEnv("HARMONT_CACHE_MAX_SIZE") is { Length: > 0 } env ? CacheUnits.ParseSize(env, "HARMONT_CACHE_MAX_SIZE")
        : CacheUnits.DefaultMaxBytes;

    /// <summary>How the cache verbs' failures read: an I/O failure is the cache directory's or a file named, not a bug.</summary>
    public static FailureScope Failures(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cache = HarmontDirectories.FromEnvironment(context.GetEnv).Cache;
        return new FailureScope(context.Cancellation)
        {
            FileProblem = message => $"{message.ReplaceLineEndings(" ")}. Check that the cache directory ({cache}) and any file named are readable and writable.",
        };
    }

    private static int WithStore(CliContext context, Func<CacheStore, int> action) => action(Open(context));

    private static Task<int> WithStoreAsync(CliContext context, Func<CacheStore, Task<int>> action) => action(Open(context));

    private static CacheStore Open(CliContext context) => new(HarmontDirectories.FromEnvironment(context.GetEnv).Cache, TimeProvider.System);
}
