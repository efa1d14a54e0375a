namespace Harmont.Aot.Cache.Remote;

/// <summary>What <c>cache prune --remote</c> did.</summary>
/// <param name="Kept">Entries kept: the newest of their step.</param>
/// <param name="Deleted">Entries whose manifests (and images) were deleted.</param>
/// <param name="Refused">Entries the registry would not delete (deletion disabled, or not allowed to this credential).</param>
/// <param name="Unreadable">Tags that look like entries but could not be read; left alone.</param>
internal sealed record RemotePruneResult(int Kept, int Deleted, int Refused, int Unreadable);

/// <summary>
/// Retention for the shared cache: keeps the newest N entries of each step (by the time each was made) and deletes the
/// other entries' manifests and their images' manifests, where the registry allows deleting. Blobs go when the
/// registry's own garbage collection runs; a blob a kept entry still names stays.
/// </summary>
internal static class RemotePrune
{
    public const string ImageTagSuffix = "-image";

    public static async Task<RemotePruneResult> PruneAsync(RegistryClient client, int keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        var entries = new List<(string Key, string Digest, RemoteEntryMetadata Metadata)>();
        var unreadable = 0;
        foreach (var tag in (await client.ListTagsAsync(cancellationToken)).Where(CacheEntryRules.IsKey))
        {
            try
            {
                if (await client.GetManifestAsync(tag, cancellationToken) is { } found)
                {
                    var (_, metadata) = await RemoteEntryReader.ReadAsync(client, tag, found.Manifest, cancellationToken);
                    entries.Add((tag, found.Digest, metadata));
                }
            }
            catch (RegistryException ex) when (!ex.IsDenied && ex.Status is not null)
            {
                unreadable++; // Not an entry this runner wrote, or damaged: not ours to judge.
            }
        }

        var (kept, deleted, refused) = (0, 0, 0);
        foreach (var step in entries.GroupBy(e => (e.Metadata.Pipeline, e.Metadata.Step)))
        {
            var newestFirst = step.OrderByDescending(e => e.Metadata.Created).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
            kept += Math.Min(keep, newestFirst.Count);
            foreach (var (key, digest, metadata) in newestFirst.Skip(keep))
            {
                if (!await client.DeleteManifestAsync(digest, cancellationToken))
                {
                    refused++;
                    continue;
                }

                deleted++;
                if (metadata.Image is not null && await client.ResolveManifestAsync(key + ImageTagSuffix, cancellationToken) is { } image)
                {
                    await client.DeleteManifestAsync(image, cancellationToken);
                }
            }
        }

        return new RemotePruneResult(kept, deleted, refused, unreadable);
    }
}
