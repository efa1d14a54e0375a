using System.Text.Json;
using Docker.DotNet.Models;

namespace Harmont.Aot.Runners.Docker;

// Pushing and pulling images to and from a registry the caller names, with its credential.
internal sealed partial class DockerEngine
{
    /// <summary>Pushes <paramref name="repository"/>:<paramref name="tag"/>; returns the manifest digest the registry stored and the bytes sent.</summary>
    /// <param name="repository">The image's name on the registry, host included (<c>host:port/team/cache</c>).</param>
    /// <param name="tag">The tag to push.</param>
    /// <param name="auth">The registry credential, or null for none.</param>
    /// <param name="cancellationToken">Stops the push.</param>
    /// <exception cref="DockerEngineException">The engine failed or refused, before or inside its progress stream.</exception>
    public async Task<(string Digest, long Bytes)> PushImageAsync(string repository, string tag, AuthConfig? auth, CancellationToken cancellationToken)
    {
        var action = $"pushing image '{repository}:{tag}'";
        var transfer = new Transfer("Pushing");
        await GuardAsync(() => _client.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, auth ?? new AuthConfig(), transfer, cancellationToken));
        transfer.ThrowIfFailed(action);
        return transfer.Digest is { } digest ? (digest, transfer.Bytes) : throw new DockerEngineException($"{action}: the engine did not say which digest the registry stored.");
    }

    /// <summary>Pulls <paramref name="repository"/>@<paramref name="digest"/>; returns the bytes received.</summary>
    public async Task<long> PullImageByDigestAsync(string repository, string digest, AuthConfig? auth, CancellationToken cancellationToken)
    {
        var transfer = new Transfer("Downloading");
        await GuardAsync(() => _client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = digest }, auth ?? new AuthConfig(), transfer, cancellationToken));
        transfer.ThrowIfFailed($"pulling image '{repository}@{digest}'");
        return transfer.Bytes;
    }

    /// <summary>
    /// Reads a push or pull's progress on the reading thread: the failure the engine reports inside it (with HTTP 200),
    /// the last total of each layer's transfer lines (what crossed the wire), and the digest a push ends with.
    /// </summary>
    private sealed class Transfer(string transferStatus) : IProgress<JSONMessage>
    {
        private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
        private string? _error;

        public string? Digest { get; private set; }

        public long Bytes => _totals.Values.Sum();

        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } failed)
            {
                _error ??= failed;
            }

            if (value.Aux?.ExtensionData?.TryGetValue("Digest", out var digest) == true)
            {
                Digest = digest is JsonElement { ValueKind: JsonValueKind.String } text ? text.GetString() : digest?.ToString();
            }

            if (value is { ID: { } id, Status: { } status, Progress.Total: > 0 and var total } && status == transferStatus)
            {
                _totals[id] = total;
            }
        }

        public void ThrowIfFailed(string action)
        {
            if (_error is { } error)
            {
                throw new DockerEngineException(null, error, $"{action} failed: {error}");
            }
        }
    }
}
