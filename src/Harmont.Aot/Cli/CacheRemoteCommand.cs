using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using Harmont.Aot.Workspaces;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary>
/// <c>cache prune --remote --keep N</c>, retention for the shared cache in the registry, and <c>cache push</c>, which
/// finishes the pushes runs left owed.
/// </summary>
internal static class CacheRemoteCommand
{
    /// <summary>Pushes every entry this cache still owes the registry, waiting for each; the detached uploader a local run starts is this.</summary>
    /// <returns>0 when nothing is owed any more; 2 for a missing or malformed setting; 1 when some push failed (they stay owed).</returns>
    public static async Task<int> PushAsync(CliContext context, string? cacheRemote)
    {
        ArgumentNullException.ThrowIfNull(context);
        var setting = (RemoteCacheSetting.Resolve(cacheRemote, context.GetEnv)
            ?? throw new PipelineException($"cache push needs the registry: pass --cache-remote oci://HOST[:PORT]/REPO or set {RemoteCacheSetting.EnvironmentVariable}.")) with { WaitForPushes = true };
        if (!setting.CanWrite)
        {
            throw new PipelineException($"cache push: the remote {setting} is read-only; drop mode=read to push to it.");
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PipelineException("cache push needs Linux (entries are read by handle).");
        }

        var store = new CacheStore(HarmontDirectories.FromEnvironment(context.GetEnv).Cache, context.Clock);
        var journal = new RemotePushJournal(store.Root, setting);
        var owed = journal.Pending();
        if (owed.Count == 0)
        {
            await context.Out.WriteLineAsync($"cache push {setting}: nothing to push.");
            return ExitCodes.Passed;
        }

        // Only entries with an image need the engine; one that does not answer leaves them owed and says so.
        IStepBackend? engine = null;
        if (owed.Any(k => store.TryOpen(k) is { } lease && Release(lease).Image is not null))
        {
            engine = await ConnectQuietlyAsync(context);
        }

        await using (engine)
        {
            var images = engine is DockerBackend docker ? new DockerRemoteImages(docker.Client, OwnerLock.Label(store.Root)) : null;
            await using var remote = new RemoteCache(new RegistryClient(setting, new RegistryCredentials(context.GetEnv)), store, images, line => context.Error.WriteLine(line));
            remote.ResumeOwed();
            var moved = await remote.DrainAsync();
            await context.Out.WriteLineAsync(moved ?? $"cache push {setting}: nothing moved.");
            return remote.Owed == 0 ? ExitCodes.Passed : ExitCodes.StepFailed;
        }
    }

    private static CacheEntry Release(CacheLease lease)
    {
        lease.Dispose();
        return lease.Entry;
    }

    private static async Task<IStepBackend?> ConnectQuietlyAsync(CliContext context)
    {
        try
        {
            return await context.Docker.ConnectAsync(context.Cancellation);
        }
        catch (Exception ex) when (ex is PipelineException or EngineUnavailableException)
        {
            await context.Error.WriteLineAsync($"harmont: {ex.Message}; entries with an image stay owed until an engine answers.");
            return null;
        }
    }

    /// <summary>Keeps the newest <paramref name="keep"/> entries of each step in the remote <paramref name="cacheRemote"/> names (else the environment's).</summary>
    /// <returns>0; 2 for a missing or malformed setting; 1 when the registry fails (see <see cref="PruneFailures"/>).</returns>
    public static async Task<int> PruneAsync(CliContext context, string? cacheRemote, int? keep)
    {
        ArgumentNullException.ThrowIfNull(context);
        var setting = RemoteCacheSetting.Resolve(cacheRemote, context.GetEnv)
            ?? throw new PipelineException($"cache prune --remote needs the registry: pass --cache-remote oci://HOST[:PORT]/REPO or set {RemoteCacheSetting.EnvironmentVariable}.");
        if (keep is not { } count || count < 1)
        {
            throw new PipelineException($"cache prune --remote needs --keep N, the number of newest entries to keep per step (1 or more){(keep is null ? "" : $", not {keep}")}.");
        }

        using var client = new RegistryClient(setting, new RegistryCredentials(context.GetEnv));
        var result = await RemotePrune.PruneAsync(client, count, context.Cancellation);
        await context.Out.WriteLineAsync(
            $"cache prune --remote {setting}: kept {result.Kept} entr{(result.Kept == 1 ? "y" : "ies")} (the newest {keep} per step), deleted {result.Deleted}"
            + (result.Refused > 0 ? $"; the registry refused to delete {result.Refused} (it may not allow deleting: enable it, or delete them with the registry's own tools)" : "")
            + (result.Unreadable > 0 ? $"; left {result.Unreadable} tag(s) that are not readable entries" : "")
            + (result.Orphans > 0 ? $"; deleted {result.Orphans} image(s) whose entry was never pushed" : "")
            + ".");
        return ExitCodes.Passed;
    }

    /// <summary>
    /// How <c>cache prune --remote</c>'s failures read: this command is asked for by name, so the registry failing is
    /// its result (exit 1), not the miss it is to a run.
    /// </summary>
    public static FailureScope PruneFailures(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new FailureScope(context.Cancellation) { RegistryCommand = "cache prune --remote" };
    }
}
