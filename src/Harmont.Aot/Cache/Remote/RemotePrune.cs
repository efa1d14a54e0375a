namespace Harmont.Aot.Cache.Remote;

/// <summary>What <c>cache prune --remote</c> did.</summary>
/// <param name="Kept">Entries kept: the newest of their step.</param>
/// <param name="Deleted">Entries whose manifests (and images no kept entry shares) were deleted.</param>
/// <param name="Refused">Entries the registry would not delete (deletion disabled, or not allowed to this credential).</param>
/// <param name="Unreadable">Tags that look like entries but could not be read; left alone.</param>
/// <param name="Orphans">Image tags with no entry (a push killed between the two) whose images were deleted.</param>
internal sealed record RemotePruneResult(int Kept, int Deleted, int Refused, int Unreadable, int Orphans = 0);

/// <summary>
/// Retention for the shared cache: keeps the newest N entries of each step (by the time each was made) and deletes the
/// other entries' manifests and their images' manifests, where the registry allows deleting. An image is deleted only
/// when no kept entry names it: a step that changed nothing shares its parent's image, so several image tags name one
/// manifest, and deleting a manifest deletes it under every tag. Image tags whose entry never arrived (a push killed
/// between the two) go too. Blobs go when the registry's own garbage collection runs; a blob a kept entry names stays.
/// </summary>
internal static class RemotePrune
{
    public const string ImageTagSuffix = "-image";

    public static async Task<RemotePruneResult> PruneAsync(RegistryClient client, int keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        var tags = await client.ListTagsAsync(cancellationToken);
        var entryTags = tags.Where(CacheEntryRules.IsKey).ToHashSet(StringComparer.Ordinal);
        var entries = new List<(string Key, string Digest, RemoteEntryMetadata Metadata)>();
        var unreadable = 0;
        foreach (var tag in entryTags)
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

        var kept = new List<(string Key, string Digest, RemoteEntryMetadata Metadata)>();
        var old = new List<(string Key, string Digest, RemoteEntryMetadata Metadata)>();
        foreach (var step in entries.GroupBy(e => (e.Metadata.Pipeline, e.Metadata.Step)))
        {
            var newestFirst = step.OrderByDescending(e => e.Metadata.Created).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
            kept.AddRange(newestFirst.Take(keep));
            old.AddRange(newestFirst.Skip(keep));
        }

        // An image a kept entry names stays, whichever tag led here; so does any image of an entry that could not be read.
        var keptImages = kept.Select(e => e.Metadata.ImageDigest).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var readable = entries.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var tag in tags.Where(t => IsImageTag(t, out var key) && !readable.Contains(key) && entryTags.Contains(key)))
        {
            if (await client.ResolveManifestAsync(tag, cancellationToken) is { } digest)
            {
                keptImages.Add(digest);
            }
        }

        var gone = new HashSet<string>(StringComparer.Ordinal);
        var (deleted, refused) = (0, 0);
        foreach (var (key, digest, metadata) in old)
        {
            if (!await client.DeleteManifestAsync(digest, cancellationToken))
            {
                refused++;
                continue;
            }

            deleted++;
            var image = metadata.ImageDigest ?? (metadata.Image is null ? null : await client.ResolveManifestAsync(key + ImageTagSuffix, cancellationToken));
            if (image is not null && !keptImages.Contains(image) && gone.Add(image))
            {
                await client.DeleteManifestAsync(image, cancellationToken);
            }
        }

        var orphans = 0;
        foreach (var tag in tags.Where(t => IsImageTag(t, out var key) && !entryTags.Contains(key)))
        {
            if (await client.ResolveManifestAsync(tag, cancellationToken) is { } digest && !keptImages.Contains(digest)
                && (gone.Contains(digest) || (gone.Add(digest) && await client.DeleteManifestAsync(digest, cancellationToken))))
            {
                orphans++;
            }
        }

        return new RemotePruneResult(kept.Count, deleted, refused, unreadable, orphans);
    }

    /// <summary>Whether <paramref name="tag"/> is an entry's image tag, <c>&lt;key&gt;-image</c>, and for which key.</summary>
    public static bool IsImageTag(string tag, out string key)
    {
        ArgumentNullException.ThrowIfNull(tag);
        key = tag.EndsWith(ImageTagSuffix, StringComparison.Ordinal) ? tag[..^ImageTagSuffix.Length] : "";
        return CacheEntryRules.IsKey(key);
    }
}
