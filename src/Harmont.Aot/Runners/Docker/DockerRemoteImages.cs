using Docker.DotNet.Models;
using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Runners.Docker;

/// <summary>
/// Moves cached steps' images between this engine and the shared cache's registry: the engine pushes and pulls them
/// (by digest), so layers it already has never cross the wire; the names it needs for that are taken off again. A fetched
/// image is named for the cache dir it is fetched into (<c>cache</c>, its <see cref="DockerNames.CacheLabel"/> value), as that
/// cache's own images are: an image the engine had already, another cache dir's, then carries both caches' names.
/// </summary>
internal sealed class DockerRemoteImages(DockerEngine engine, string cache) : IRemoteImages
{
    private readonly string _repository = DockerNames.CacheRepository(cache);

    /// <inheritdoc />
    public async Task<long> SizeAsync(string image, CancellationToken cancellationToken) =>
        (await engine.GuardAsync(() => engine.InspectImageAsync(image, cancellationToken)))?.Size ?? 0;

    /// <inheritdoc />
    public async Task<(string Digest, long Bytes)> PushAsync(string image, string repository, string tag, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        await engine.GuardAsync(() => engine.TagImageAsync(image, repository, tag, cancellationToken));
        try
        {
            return await engine.PushImageAsync(repository, tag, Auth(credential, repository), cancellationToken);
        }
        finally
        {
            // Untagging also drops the digest reference the push added (the engine's rule for one repository).
            await engine.GuardAsync(() => engine.RemoveImageAsync($"{repository}:{tag}", force: false, CancellationToken.None));
        }
    }

    /// <inheritdoc />
    public async Task<long> PullAsync(string repository, string digest, string image, string cacheKey, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        if (await engine.GuardAsync(() => engine.InspectImageAsync(image, cancellationToken)) is not null)
        {
            await engine.GuardAsync(() => engine.TagImageAsync(image, _repository, DockerNames.CacheTag(cacheKey), cancellationToken));
            return 0;
        }

        var bytes = await engine.PullImageByDigestAsync(repository, digest, Auth(credential, repository), cancellationToken);
        var reference = $"{repository}@{digest}";
        try
        {
            var pulled = await engine.GuardAsync(() => engine.InspectImageAsync(reference, cancellationToken));
            if (pulled?.ID != image)
            {
                throw new RegistryException($"the image {digest[..19]} in the registry is {pulled?.ID ?? "nothing"}, not the entry's {image}");
            }

            await engine.GuardAsync(() => engine.TagImageAsync(image, _repository, DockerNames.CacheTag(cacheKey), cancellationToken));
        }
        finally
        {
            // This cache's tag is then the image's name, as for an image it committed; without it, the image goes.
            await engine.GuardAsync(() => engine.RemoveImageAsync(reference, force: false, CancellationToken.None));
        }

        return bytes;
    }

    /// <inheritdoc />
    /// <remarks>Only this cache's name: an image another cache dir names stays for it.</remarks>
    public Task ForgetAsync(string cacheKey, CancellationToken cancellationToken) =>
        engine.GuardAsync(() => engine.RemoveImageAsync(DockerNames.CacheReference(cache, cacheKey), force: false, cancellationToken));

    // An identity token (Docker's "<token>" user) goes as one, which the engine trades at the registry's realm.
    private static AuthConfig? Auth(RegistryCredential? credential, string repository) => credential switch
    {
        null => null,
        { IsIdentityToken: true } => new AuthConfig { IdentityToken = credential.Password, ServerAddress = repository.Split('/')[0] },
        _ => new AuthConfig { Username = credential.Username, Password = credential.Password, ServerAddress = repository.Split('/')[0] },
    };
}
