using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Cache.Remote;

// Pushing what a run recorded: in the background, two entries at a time, blobs the registry has never sent twice.
internal sealed partial class RemoteCache
{
    /// <summary>Starts sharing the published entry <paramref name="key"/> (and the entries its workspace is layered on) in the background.</summary>
    [SupportedOSPlatform("linux")]
    public void Push(string key)
    {
        if (Setting.CanWrite && Volatile.Read(ref _unreachable) == 0)
        {
            _pushes.Enqueue(Task.Run(() => PushAsync(key, _stop.Token)));
        }
    }

    /// <summary>Waits for every push the run started; returns the run's line on what moved each way, or null when nothing did.</summary>
    public async Task<string?> DrainAsync()
    {
        while (_pushes.TryDequeue(out var push))
        {
            await push;
        }

        var (fetched, pushed, faults) = (Volatile.Read(ref _fetched), Volatile.Read(ref _pushed), Volatile.Read(ref _faults));
        if (fetched + pushed + faults == 0)
        {
            return null;
        }

        var received = _client.BytesReceived + Interlocked.Read(ref _imageBytesIn);
        var sent = _client.BytesSent + Interlocked.Read(ref _imageBytesOut);
        return $"harmont: remote cache {Setting}: {fetched} fetched ({CacheUnits.FormatSize(received)} in), {pushed} pushed ({CacheUnits.FormatSize(sent)} out)"
            + (faults > 0 ? $", {faults} failed" : "");
    }

    [SupportedOSPlatform("linux")]
    private async Task PushAsync(string key, CancellationToken cancellationToken)
    {
        var leases = new List<CacheLease>();
        string? staging = null;
        try
        {
            await _pushSlots.WaitAsync(cancellationToken);
            try
            {
                if (await _client.ResolveManifestAsync(key, cancellationToken) is not null)
                {
                    return; // Shared already, by this machine or another.
                }

                // The entry and each entry its workspace is layered on, leased while they are read; bottom first.
                for (var current = key; ;)
                {
                    var lease = _store.TryOpen(current) ?? throw new IOException($"the entry {current[..16]} left the local cache before it was pushed");
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
                    return; // Its image cannot be shared without an engine, and the entry is no use without it.
                }

                staging = _store.BeginEntry();
                var image = top.Image is { } id ? PushImageAsync(id, key, cancellationToken) : Task.FromResult<string?>(null);
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
                Interlocked.Increment(ref _pushed);
            }
            finally
            {
                _pushSlots.Release();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is ending without waiting: the entry stays local, and a later run pushes it.
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

        var size = new FileInfo(file).Length;
        await _client.PushBlobAsync(digest, size, () => File.OpenRead(file), null, cancellationToken);
        return new OciDescriptor { MediaType = mediaType, Digest = digest, Size = size };
    }

    private async Task<string?> PushImageAsync(string image, string key, CancellationToken cancellationToken)
    {
        var credential = await _client.CredentialAsync(cancellationToken);
        var (digest, bytes) = await _images!.PushAsync(image, ImageRepository, key + RemotePrune.ImageTagSuffix, credential, cancellationToken);
        Interlocked.Add(ref _imageBytesOut, bytes);
        return digest;
    }
}
