using System.Collections.Concurrent;
using System.Text.Json;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Cache.Remote;

/// <summary>
/// One run's use of the shared cache (docs/remote-cache.md): a local miss asks the registry by key and a hit there is brought
/// in (the image pulled by the engine by digest, the workspace layers imported as bundles are) and published locally;
/// an entry the run records is pushed in the background. Every fault of the remote (down, denied, slow, corrupt) is a
/// miss and one warning line for the run, never a failed step.
/// </summary>
internal sealed partial class RemoteCache : IAsyncDisposable
{
    /// <summary>The media type of a workspace layer: one entry as a bundle (the format <c>cache export</c> writes).</summary>
    public static readonly string LayerMediaType = "application/vnd.harmont.cache.bundle.v1" + CacheBundleFormat.Extension.Replace(".tar.", ".tar+", StringComparison.Ordinal);

    /// <summary>The media type of an entry's source manifest, zstd-compressed, shipped beside its layer.</summary>
    public const string SourcesMediaType = "application/vnd.harmont.cache.sources.v1+zstd";

    // A source manifest is about 100 bytes a file: this is ten million files, and a bound on a hostile blob's unpacking.
    private const long MaxSourcesBytes = 1L << 30;

    // A layered entry deeper than this would not fit one overlay mount anyway (StepCache's bound).
    private const int MaxLayers = RemoteEntryReader.MaxLayers;
    private const int ConcurrentPushes = 2;

    private readonly RegistryClient _client;
    private readonly CacheStore _store;
    private readonly IRemoteImages? _images;
    private readonly Action<string> _warn;
    private readonly ConcurrentQueue<Task> _pushes = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<(OciDescriptor, OciDescriptor)>>> _layerBlobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _sourcesFiles = new(StringComparer.Ordinal);
    private readonly Lazy<string> _scratch;
    private readonly ConcurrentDictionary<string, Lazy<Task>> _layerImports = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<(string, string)>>> _imagePushes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _blobUploads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);
    private readonly RemotePushJournal _journal;
    private readonly SemaphoreSlim _pushSlots = new(ConcurrentPushes);
    private readonly CancellationTokenSource _stop = new();
    private int _warned;
    private int _faults;
    private int _unreachable;
    private int _fetched;
    private int _pushed;
    private long _imageBytesIn;
    private long _imageBytesOut;

    /// <summary>Shares <paramref name="store"/> through <paramref name="client"/>'s registry.</summary>
    /// <param name="client">The registry.</param>
    /// <param name="store">The local store hits are published into and pushes read from.</param>
    /// <param name="images">The engine's image transfer; null when this run has no engine (host entries only).</param>
    /// <param name="warn">Receives the run's one warning line.</param>
    public RemoteCache(RegistryClient client, CacheStore store, IRemoteImages? images, Action<string> warn)
    {
        _client = client;
        _store = store;
        _images = images;
        _warn = warn;
        _journal = new RemotePushJournal(store.Root, client.Setting);
        _scratch = new Lazy<string>(store.BeginEntry, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public RemoteCacheSetting Setting => _client.Setting;

    /// <summary>The image repository on the registry: the same repository the entries are in.</summary>
    private string ImageRepository => $"{Setting.Host}/{Setting.Repository}";

    /// <summary>
    /// Brings the entry <paramref name="key"/> in from the registry, if it has one made by <paramref name="backend"/>:
    /// true when it is now published locally. A fault is said (once per run) and is false.
    /// </summary>
    public async Task<bool> FetchAsync(string key, string backend, CancellationToken cancellationToken)
    {
        if (!Setting.CanRead || Volatile.Read(ref _unreachable) != 0)
        {
            return false;
        }

        string? tagged = null;
        try
        {
            if (await _client.GetManifestAsync(key, cancellationToken) is not { } found)
            {
                return false;
            }

            var (manifest, metadata) = await RemoteEntryReader.ReadAsync(_client, key, found.Manifest, cancellationToken);
            if (!string.Equals(metadata.Backend, backend, StringComparison.Ordinal))
            {
                return false; // Made by another backend: a miss, as locally.
            }

            if (metadata.Image is { } image)
            {
                if (_images is null)
                {
                    return false;
                }

                var bytes = await CheckImageAsync(key, image, metadata.ImageDigest!, cancellationToken);
                var credential = await _client.CredentialAsync(cancellationToken);

                Interlocked.Add(ref _imageBytesIn, await EngineTransferAsync(
                    ct => _images.PullAsync(ImageRepository, metadata.ImageDigest!, image, key, credential, ct), bytes, $"pull of the image {metadata.ImageDigest![..19]}", cancellationToken));
                tagged = key;
            }

            await ImportLayersAsync(manifest, metadata, cancellationToken);
            tagged = null;
            Interlocked.Increment(ref _fetched);
            return true;
        }
        catch (Exception ex) when (IsFault(ex, cancellationToken))
        {
            Fault($"fetching {key[..16]}", ex);
            return false;
        }
        finally
        {
            if (tagged is not null)
            {
                await ForgetQuietlyAsync(tagged);
            }
        }
    }

    // The image an entry names must be the one the registry holds at the digest it names (an image's id is its config's
    // digest), before the engine is asked for anything: a forged entry naming an image this engine already has (the
    // user's own, another cache's) with a digest of its choosing never gets the cache's tag onto it. Returns the bytes
    // the image is, which bound the engine's pull.
    private async Task<long> CheckImageAsync(string key, string image, string digest, CancellationToken cancellationToken)
    {
        var found = await _client.GetManifestAsync(digest, cancellationToken)
            ?? throw new RegistryException($"the registry's entry {key[..16]} names the image {digest[..19]}, which the registry does not have");
        if (found.Manifest.Config!.Digest != image)
        {
            throw new RegistryException($"the registry's entry {key[..16]} names the image {image[..19]}, but the image {digest[..19]} it points to is {RegistryClient.Short(found.Manifest.Config.Digest)}");
        }

        return found.Manifest.Config.Size + found.Manifest.Layers!.Sum(l => Math.Max(0, l.Size));
    }

    // The engine's transfer of an image, bounded like every request of ours (the timeout plus its bytes at the slowest
    // rate allowed): a registry that trickles is a fault, not a run that never ends.
    private async Task<T> EngineTransferAsync<T>(Func<CancellationToken, Task<T>> transfer, long bytes, string what, CancellationToken cancellationToken)
    {
        var limit = _client.Deadline(bytes);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            return await transfer(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"the engine's {what} at {Setting.Host} did not finish within {limit.TotalSeconds:0} s");
        }
    }

    // Each layer's entry, bottom first, unless the store has it. Entries fetched side by side that stand on one base
    // bring the base in once.
    private async Task ImportLayersAsync(OciManifest manifest, RemoteEntryMetadata metadata, CancellationToken cancellationToken)
    {
        var count = metadata.Layers.Count;
        for (var i = 0; i < count; i++)
        {
            var (layerKey, blob) = (metadata.Layers[i], manifest.Layers![i]);
            var sources = manifest.Layers.Count == 2 * count ? manifest.Layers[count + i] : null;
            if (!_store.Contains(layerKey))
            {
                // The entry's own record must name the image the metadata does, which is the one checked and pulled.
                var image = i == count - 1 ? metadata.Image : null;
                Func<CacheEntry, string?>? vet = i == count - 1
                    ? e => e.Image == image ? null : $"names the image {e.Image ?? "none"}, where the registry's metadata names {image ?? "none"}"
                    : null;
                await _layerImports.GetOrAdd(layerKey, _ => new Lazy<Task>(() => ImportLayerAsync(layerKey, blob, sources, vet, cancellationToken))).Value;
            }
        }
    }

    // A source manifest, downloaded (its digest checked) and unpacked once per run however many entries name it.
    private Task<string> SourcesFileAsync(OciDescriptor blob, CancellationToken cancellationToken) =>
        _sourcesFiles.GetOrAdd(blob.Digest, _ => new Lazy<Task<string>>(async () =>
        {
            var packed = Path.Combine(_scratch.Value, $"{blob.Digest[OciDigest.Prefix.Length..]}.zst");
            var file = Path.ChangeExtension(packed, null);
            await using (var output = new FileStream(packed, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                await _client.DownloadBlobAsync(blob, output, cancellationToken);
                output.Position = 0;
                await using var unpacked = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
                try
                {
                    await using var input = CacheBundleFormat.Decompress(output);
                    await CopyBoundedAsync(input, unpacked, cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or SharpCompress.Common.SharpCompressException)
                {
                    throw new RegistryException($"the source manifest {blob.Digest[..19]} from {Setting.Host} does not unpack: {ex.Message}");
                }
            }

            File.Delete(packed);
            return file;
        })).Value;

    private static async Task CopyBoundedAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        for (int read; (read = await input.ReadAsync(buffer, cancellationToken)) > 0;)
        {
            total += read;
            if (total > MaxSourcesBytes)
            {
                throw new InvalidDataException($"it unpacks to more than {MaxSourcesBytes} bytes");
            }

            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    // Downloaded into staging (its digest checked while it streams), then imported as a bundle, which checks every
    // member and publishes nothing of a bad one.
    private async Task ImportLayerAsync(string layerKey, OciDescriptor blob, OciDescriptor? sources, Func<CacheEntry, string?>? vet, CancellationToken cancellationToken)
    {
        var staging = _store.BeginEntry();
        try
        {
            var file = Path.Combine(staging, "layer");
            var manifest = sources is null ? null : SourcesFileAsync(sources, cancellationToken);
            await using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
            {
                await _client.DownloadBlobAsync(blob, output, cancellationToken);
            }

            await CacheBundle.ImportAsync(_store, file, layerKey, cancellationToken, manifest is null ? null : await manifest, vet);
        }
        finally
        {
            _store.Abandon(staging);
        }
    }

    // Faults of the remote, the engine's transfer or a rejected layer: never the user's cancellation, never a bug.
    private static bool IsFault(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && ex is RegistryException or IOException or UnauthorizedAccessException or PipelineException or DockerEngineException or OperationCanceledException;

    // The first fault is the run's one warning; a registry that cannot be reached (or lets this client in) is not asked again.
    private void Fault(string what, Exception ex)
    {
        Interlocked.Increment(ref _faults);
        if (ex is RegistryException { IsUnreachable: true } or RegistryException { IsDenied: true })
        {
            Volatile.Write(ref _unreachable, 1);
        }

        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            _warn($"harmont: warning: remote cache {Setting}: {what} failed, using the local cache only: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }

    private async Task ForgetQuietlyAsync(string key)
    {
        try
        {
            await _images!.ForgetAsync(key, CancellationToken.None);
        }
        catch (DockerEngineException)
        {
            // Left tagged; the entry it names is missing, so the next cleanup takes the tag.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        while (_pushes.TryDequeue(out var push))
        {
            await push;
        }

        if (_scratch.IsValueCreated)
        {
            _store.Abandon(_scratch.Value);
        }

        _stop.Dispose();
        _pushSlots.Dispose();
        _client.Dispose();
    }
}
