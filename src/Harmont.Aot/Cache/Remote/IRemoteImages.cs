namespace Harmont.Aot.Cache.Remote;

/// <summary>How the shared cache moves an entry's image: through the engine, which pushes and pulls it by digest.</summary>
internal interface IRemoteImages
{
    /// <summary>Pushes the local image <paramref name="image"/> as <paramref name="repository"/>:<paramref name="tag"/>; returns its manifest digest there and the bytes sent.</summary>
    Task<(string Digest, long Bytes)> PushAsync(string image, string repository, string tag, RegistryCredential? credential, CancellationToken cancellationToken);

    /// <summary>
    /// Pulls <paramref name="repository"/>@<paramref name="digest"/>, which must be the image <paramref name="image"/>, and gives
    /// it the cache tag of <paramref name="cacheKey"/>; returns the bytes received (0 when the engine had it).
    /// </summary>
    Task<long> PullAsync(string repository, string digest, string image, string cacheKey, RegistryCredential? credential, CancellationToken cancellationToken);

    /// <summary>The whole size of the local image <paramref name="image"/>, every layer: what a push may have to send.</summary>
    Task<long> SizeAsync(string image, CancellationToken cancellationToken);

    /// <summary>Takes the cache tag of <paramref name="cacheKey"/> off again (its entry could not be brought in after all).</summary>
    Task ForgetAsync(string cacheKey, CancellationToken cancellationToken);
}
