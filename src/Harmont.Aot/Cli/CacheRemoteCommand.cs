using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary><c>cache prune --remote --keep N</c>: retention for the shared cache in the registry.</summary>
internal static class CacheRemoteCommand
{
    /// <summary>Keeps the newest <paramref name="keep"/> entries of each step in the remote <paramref name="cacheRemote"/> names (else the environment's).</summary>
    /// <returns>0; 2 for a missing or malformed setting; 1 when the registry fails (this command is asked for by name, so a fault is its result).</returns>
    public static async Task<int> PruneAsync(CliContext context, string? cacheRemote, int? keep)
    {
        ArgumentNullException.ThrowIfNull(context);
        RemoteCacheSetting setting;
        try
        {
            setting = RemoteCacheSetting.Resolve(cacheRemote, context.GetEnv)
                ?? throw new PipelineException($"cache prune --remote needs the registry: pass --cache-remote oci://HOST[:PORT]/REPO or set {RemoteCacheSetting.EnvironmentVariable}.");
            if (keep is not { } count || count < 1)
            {
                throw new PipelineException($"cache prune --remote needs --keep N, the number of newest entries to keep per step (1 or more){(keep is null ? "" : $", not {keep}")}.");
            }
        }
        catch (PipelineException ex)
        {
            await context.Error.WriteLineAsync($"harmont: error: {ex.Message}");
            return ExitCodes.Usage;
        }

        using var client = new RegistryClient(setting, new RegistryCredentials(context.GetEnv));
        try
        {
            var result = await RemotePrune.PruneAsync(client, keep.Value, context.Cancellation);
            await context.Out.WriteLineAsync(
                $"cache prune --remote {setting}: kept {result.Kept} entr{(result.Kept == 1 ? "y" : "ies")} (the newest {keep} per step), deleted {result.Deleted}"
                + (result.Refused > 0 ? $"; the registry refused to delete {result.Refused} (it may not allow deleting: enable it, or delete them with the registry's own tools)" : "")
                + (result.Unreadable > 0 ? $"; left {result.Unreadable} tag(s) that are not readable entries" : "")
                + ".");
            return ExitCodes.Passed;
        }
        catch (RegistryException ex)
        {
            await context.Error.WriteLineAsync($"harmont: error: cache prune --remote: {ex.Message}");
            return ExitCodes.StepFailed;
        }
    }
}
