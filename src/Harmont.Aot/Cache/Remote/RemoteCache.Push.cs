using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Cache.Remote;

// Pushing what a run recorded: in the background, two entries at a time, each blob and image sent once per run. Every
// push is journalled first (RemotePushJournal), so one that a kill, a fault or the end of the run cut short is
// finished by a later run or by 'cache push'.
internal sealed partial class RemoteCache
{
    /// <summary>Starts sharing the published entry <paramref name="key"/> (and the entries its workspace is layered on) in the background.</summary>
    [SupportedOSPlatform("linux")]
    public void Push(string key)
    {
        if (!Setting.CanWrite)
        {
            return;
        }

        try
        {
            _journal.Add(key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fault($"recording the push of {key[..16]}", ex); // Pushed all the same, but nobody finishes it if this run does not.
        }

        Start(key);
    }

    /// <summary>Starts the pushes earlier runs left owed (killed, failed, or handed over at their end).</summary>
    [SupportedOSPlatform("linux")]
    public void ResumeOwed()
    {
        if (Setting.CanWrite)
        {
            foreach (var key in _journal.Pending())
            {
                if (_store.Contains(key))
                {
                    Start(key);
                }
                else
                {
                    // Evicted or cleaned since: nothing is left to share.
                    using var claim = _journal.TryClaim(key);
                    claim?.Done();
                }
            }
        }
    }

    /// <summary>How many pushes are owed to the registry now, by this run or earlier ones.</summary>
    public int Owed => _journal.Pending().Count;

    [SupportedOSPlatform("linux")]
    private void Start(string key)
    {
        if (Volatile.Read(ref _unreachable) == 0 && _started.TryAdd(key, 0))
        {
            _pushes.Enqueue(Task.Run(() => PushAsync(key, _stop.Token)));
        }
    }

    /// <summary>
    /// Ends the run's pushes: waits for them all when the setting says to (CI's default), else lets those still going
    /// stop where they are (they stay owed) and returns at once. Returns the run's line on what moved each way, or
    /// null when nothing did.
    /// </summary>
    public async Task<string?> DrainAsync()
    {
        if (!Setting.WaitForPushes)
        {
            await _stop.CancelAsync();
        }

        while (_pushes.TryDequeue(out var push))
        {
            await push;
        }

        var (fetched, pushed, faults) = (Volatile.Read(ref _fetched), Volatile.Read(ref _pushed), Volatile.Read(ref _faults));
        var owed = Setting.CanWrite ? Owed : 0;
        if (fetched + pushed + faults + owed == 0)
        {
            return null;
        }

        var received = _client.BytesReceived + Interlocked.Read(ref _imageBytesIn);
        var sent = _client.BytesSent + Interlocked.Read(ref _imageBytesOut);
        return $"harmont: remote cache {Setting}: {fetched} fetched ({CacheUnits.FormatSize(received)} in), {pushed} pushed ({CacheUnits.FormatSize(sent)} out)"
            + (faults > 0 ? $", {faults} failed" : "")
            + (owed > 0 ? $", {owed} still to push" : "");
    }

    [SupportedOSPlatform("linux")]
    private async Task PushAsync(string key, CancellationToken cancellationToken)
    {
        var leases = new List<CacheLease>();
        string? staging = null;
        using var claim = _journal.TryClaim(key);
        if (claim is null)
        {
            return; // Another live process is pushing it, or it is owed no more.
        }

        try
        {
            await _pushSlots.WaitAsync(cancellationToken);
            try
            {
                // The entry and each entry its workspace is layered on, leased while they are read; bottom first.
                for (var current = key; ;)
                {
                    if (_store.TryOpen(current) is not { } lease)
                    {
                        // Evicted or cleaned since: there is nothing left to share, so nothing is owed.
                        claim.Done();
                        return;
                    }

                    leases.Add(lease);
                    if (lease.Entry.Base is not { } below)
                    {
                        break;
                    }

                    current = leases.Count < MaxLayers ? below : throw new IOException($"the entry {key[..16]} is layered more than {MaxLayers} entries deep");
                }

                leases.Reverse();
                var top = leases[^1].Entry;
                if (top.Image is not null && _images is null)
                {
                    return; // Its image cannot be shared without an engine, and the entry is no use without it: owed still.
                }

                if (await HasWholeEntryAsync(key, cancellationToken))
                {
                    claim.Done(); // Shared already, by this machine or another, image and all.
                    return;
                }

                staging = _store.BeginEntry();
                var image = top.Image is { } id ? PushImageAsync(id, top.ImageSize, key, cancellationToken) : Task.FromResult<string?>(null);
                var layers = leases.Select(l => LayerBlobsAsync(l, cancellationToken)).ToList();

                // The layers first: they read the leased entries, which must stay until every read is done.
                var blobs = await Task.WhenAll(layers);

                var metadata = new RemoteEntryMetadata
                {
                    Key = key,
                    Pipeline = top.Pipeline,
                    Step = top.Step,
                    Created = top.Created,
                    Backend = top.Backend,
                    Image = top.Image,
                    ImageDigest = await image,
                    Layers = [.. leases.Select(l => l.Entry.Key)],
                };
                var config = JsonSerializer.SerializeToUtf8Bytes(metadata, RegistryJsonContext.Default.RemoteEntryMetadata);
                var configFile = Path.Combine(staging, "metadata");
                await File.WriteAllBytesAsync(configFile, config, cancellationToken);
                var manifest = new OciManifest
                {
                    ArtifactType = RemoteEntryMetadata.ArtifactType,
                    Config = await UploadAsync(configFile, RemoteEntryMetadata.MediaType, cancellationToken),
                    Layers = [.. blobs.Select(b => b.Layer), .. blobs.Select(b => b.Sources)],
                    Annotations = new Dictionary<string, string>
                    {
                        ["org.opencontainers.image.created"] = top.Created.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        ["dev.harmont.aot.step"] = $"{top.Pipeline}/{top.Step}",
                    },
                };

                // The tag goes last: a reader never finds an entry whose blobs are not all there.
                await _client.PutManifestAsync(key, JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);

                // A retention pass that ran between the image's push and the tag above took an image no entry named yet:
                // the entry stays owed, and the next push of it finds it incomplete and sends the image again.
                if (metadata.ImageDigest is { } pushedImage && await _client.ResolveManifestAsync(pushedImage, cancellationToken) is null)
                {
                    throw new RegistryException($"the image {pushedImage[..19]} of the entry {key[..16]} was deleted from the registry while it was pushed");
                }

                claim.Done();
                Interlocked.Increment(ref _pushed);
            }
            finally
            {
                _pushSlots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is ending without waiting: the entry stays owed, and a later run or 'cache push' finishes it.
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            Fault($"pushing {key[..16]}", ex);
        }
        finally
        {
            leases.ForEach(l => l.Dispose());
            if (staging is not null)
            {
                _store.Abandon(staging);
            }
        }
    }

    // Whether the registry holds the entry and the image it names: a tag whose image a retention pass took, or
    // whose entry does not read (damaged, forged), is pushed again over the top, since this cache holds the real one.
    private async Task<bool> HasWholeEntryAsync(string key, CancellationToken cancellationToken)
    {
        if (await _client.GetManifestAsync(key, cancellationToken) is not { } found)
        {
            return false;
        }

        RemoteEntryMetadata metadata;
        try
        {
            (_, metadata) = await RemoteEntryReader.ReadAsync(_client, key, found.Manifest, cancellationToken);
        }
        catch (RegistryException ex) when (!ex.IsDenied && !ex.IsUnreachable)
        {
            return false;
        }

        return metadata.ImageDigest is not { } digest || await _client.ResolveManifestAsync(digest, cancellationToken) is not null;
    }

    // Each entry's layer is written and uploaded once per run, however many entries above it are pushed: the 19
    // leaves over one root share the root's layer, which is the whole tree. The first push's lease keeps it readable.
    [SupportedOSPlatform("linux")]
    private Task<(OciDescriptor Layer, OciDescriptor Sources)> LayerBlobsAsync(CacheLease lease, CancellationToken cancellationToken) =>
        _layerBlobs.GetOrAdd(lease.Entry.Key, _ => new Lazy<Task<(OciDescriptor, OciDescriptor)>>(() => UploadLayerAsync(lease, cancellationToken))).Value;

    // The entry as a one-entry bundle, exactly what 'cache export' would write for it but for its source manifest,
    // which goes up as a blob of its own: every entry a run records holds the same one, so the registry (which
    // has it after the first) stores it once and a reader fetches it once.
    [SupportedOSPlatform("linux")]
    private async Task<(OciDescriptor, OciDescriptor)> UploadLayerAsync(CacheLease lease, CancellationToken cancellationToken)
    {
        var staging = _store.BeginEntry();
        try
        {
            var layer = Path.Combine(staging, "layer");
            await using (var output = new FileStream(layer, FileMode.CreateNew, FileAccess.Write))
            await using (var compressed = CacheBundleFormat.Compress(output))
            {
                await BundleWriter.WriteAsync([new CacheListing(lease.Entry, DateTimeOffset.UnixEpoch, lease.Directory)], compressed, cancellationToken, withSources: false);
            }

            var sources = Path.Combine(staging, "sources");
            using (var root = ContainedRoot.Open(lease.Directory))
            using (var handle = root.TryOpen("sources", LinuxSyscalls.ReadOnlyFlag, 0, out var error))
            {
                if (error != Errno.None)
                {
                    throw new IOException($"the entry {lease.Entry.Key[..16]} has no readable source manifest ({error.Describe()})");
                }

                await using var input = new FileStream(handle, FileAccess.Read, bufferSize: 0);
                await using var output = new FileStream(sources, FileMode.CreateNew, FileAccess.Write);
                await using var compressed = CacheBundleFormat.Compress(output);
                await input.CopyToAsync(compressed, cancellationToken);
            }

            var uploads = await Task.WhenAll(UploadAsync(layer, LayerMediaType, cancellationToken), UploadAsync(sources, SourcesMediaType, cancellationToken));
            return (uploads[0], uploads[1]);
        }
        finally
        {
            _store.Abandon(staging);
        }
    }

    private async Task<OciDescriptor> UploadAsync(string file, string mediaType, CancellationToken cancellationToken)
    {
        string digest;
        await using (var read = File.OpenRead(file))
        {
            digest = OciDigest.Prefix + Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancellationToken));
        }

        // One upload per blob and run: every entry a run records carries the same source manifest, and two uploads of
        // one digest at once make distribution answer 500. The first caller's file stays until its upload is done.
        var size = new FileInfo(file).Length;
        var once = _blobUploads.GetOrAdd(digest, _ => new Lazy<Task>(() => _client.PushBlobAsync(digest, size, () => File.OpenRead(file), null, cancellationToken)));
        try
        {
            await once.Value;
        }
        catch
        {
            _blobUploads.TryRemove(new KeyValuePair<string, Lazy<Task>>(digest, once));
            throw;
        }

        return new OciDescriptor { MediaType = mediaType, Digest = digest, Size = size };
    }

    // One engine push per image and run, however many entries name it (a step that changed nothing shares its
    // parent's): pushed once under the first entry's image tag, then tagged for the others by its manifest alone,
    // so its blobs never go up twice and two pushes of one image never race on the registry.
    private async Task<string?> PushImageAsync(string image, long size, string key, CancellationToken cancellationToken)
    {
        var tag = key + RemotePrune.ImageTagSuffix;
        var once = _imagePushes.GetOrAdd(image, _ => new Lazy<Task<(string, string)>>(() => PushImageOnceAsync(image, size, tag, cancellationToken)));
        string digest, pushedAs;
        try
        {
            (digest, pushedAs) = await once.Value;
        }
        catch
        {
            // A failed push is not the image's last word in this run: the next entry that names it tries again.
            _imagePushes.TryRemove(new KeyValuePair<string, Lazy<Task<(string, string)>>>(image, once));
            throw;
        }

        if (pushedAs != tag)
        {
            var found = await _client.GetManifestAsync(digest, cancellationToken)
                ?? throw new RegistryException($"the image {digest[..19]} pushed in this run is no longer in the registry");
            await _client.PutManifestAsync(tag, found.Content, found.Manifest.MediaType ?? OciManifest.MediaTypeName, cancellationToken);
        }

        return digest;
    }

    // Returns the image's digest in the registry and the tag it was pushed as.
    private async Task<(string Digest, string Tag)> PushImageOnceAsync(string image, long size, string tag, CancellationToken cancellationToken)
    {
        var credential = await _client.CredentialAsync(cancellationToken);

        // The entry counts only what its image adds over its parent's; a push may have to send every layer.
        size = Math.Max(size, await _images!.SizeAsync(image, cancellationToken));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (digest, bytes) = await EngineTransferAsync(
                    ct => _images!.PushAsync(image, ImageRepository, tag, credential, ct), size, $"push of the image {image[..19]}", cancellationToken);
                Interlocked.Add(ref _imageBytesOut, bytes);
                return (digest, tag);
            }
            catch (DockerEngineException) when (attempt == 1 && !cancellationToken.IsCancellationRequested)
            {
                // Another machine pushing the same blobs at this moment can make the registry refuse one upload
                // (distribution answers 500); the second try finds those blobs there.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
