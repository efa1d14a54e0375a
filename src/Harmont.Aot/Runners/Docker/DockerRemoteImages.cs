using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Runners.Docker;

/// <summary>
/// Moves cached steps' images between this engine and the shared cache's registry: the engine pushes and pulls them
/// (by digest), so layers it already has never cross the wire; the names it needs for that are taken off again.
/// </summary>
internal sealed class DockerRemoteImages(DockerEngineClient client) : IRemoteImages
{
    /// <inheritdoc />
    public async Task<(string Digest, long Bytes)> PushAsync(string image, string repository, string tag, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        await client.TagImageAsync(image, repository, tag, cancellationToken);
        try
        {
            return await client.PushImageAsync(repository, tag, Auth(credential, repository), cancellationToken);
        }
        finally
        {
            // Untagging also drops the digest reference the push added (the engine's rule for one repository).
            await client.RemoveImageAsync($"{repository}:{tag}", force: false, CancellationToken.None);
        }
    }

    /// <inheritdoc />
    public async Task<long> PullAsync(string repository, string digest, string image, string cacheKey, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        if (await client.ImageExistsAsync(image, cancellationToken))
        {
            await client.TagImageAsync(image, DockerNames.CacheRepository, DockerNames.CacheTag(cacheKey), cancellationToken);
            return 0;
        }

        var bytes = await client.PullImageByDigestAsync(repository, digest, Auth(credential, repository), cancellationToken);
        var reference = $"{repository}@{digest}";
        try
        {
            var pulled = await client.InspectImageAsync(reference, cancellationToken);
            if (pulled?.Id != image)
            {
                throw new RegistryException($"the image {digest[..19]} in the registry is {pulled?.Id ?? "nothing"}, not the entry's {image}");
            }

            await client.TagImageAsync(image, DockerNames.CacheRepository, DockerNames.CacheTag(cacheKey), cancellationToken);
        }
        finally
        {
            // The cache tag is the image's one name, as for an image this machine committed; without it, the image goes.
            await client.RemoveImageAsync(reference, force: false, CancellationToken.None);
        }

        return bytes;
    }

    /// <inheritdoc />
    public Task ForgetAsync(string cacheKey, CancellationToken cancellationToken) =>
        client.RemoveImageAsync(DockerNames.CacheReference(cacheKey), force: false, cancellationToken);

    private static string? Auth(RegistryCredential? credential, string repository) =>
        credential is null ? null : DockerEngineClient.RegistryAuth(credential.Username, credential.Password, repository.Split('/')[0]);
}
