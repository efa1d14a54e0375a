using Docker.DotNet.Models;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>The short forms tests use to set up and inspect engine state through the library; nothing here is the product's.</summary>
internal static class EngineTestExtensions
{
    extension(ImagesListResponse image)
    {
        public string Id => image.ID;
    }

    extension(ContainerListResponse container)
    {
        public string Id => container.ID;
    }

    extension(ImageInspectResponse image)
    {
        public string Id => image.ID;

        /// <summary>How many filesystem layers the image stacks.</summary>
        public int LayerCount => image.RootFS?.Layers?.Count ?? 0;
    }

    extension(DockerEngine engine)
    {
        public Task<IList<ImagesListResponse>> ListImagesAsync(string label, CancellationToken cancellationToken) =>
            engine.ListImagesAsync([label], cancellationToken);

        public Task<IList<ContainerListResponse>> ListContainersAsync(string label, CancellationToken cancellationToken) =>
            engine.ListContainersAsync([label], cancellationToken);

        public Task RemoveContainerAsync(string id, CancellationToken cancellationToken) =>
            engine.RemoveContainerAsync(id, force: true, cancellationToken);

        public async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
            await engine.InspectImageAsync(image, cancellationToken) is not null;

        public Task<string> ImportImageAsync(Stream rootfs, string repo, string tag, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken) =>
            engine.ImportImageAsync(rootfs, labels, cancellationToken, repo, tag);

        /// <summary>Creates (does not start) a container running <paramref name="cmd"/>; returns its id.</summary>
        public async Task<string> CreateContainerAsync(
            string image, IList<string> cmd, IDictionary<string, string> labels, CancellationToken cancellationToken, string? name = null) =>
            (await engine.Api.Containers.CreateContainerAsync(
                new CreateContainerParameters { Image = image, Cmd = cmd, Labels = labels, Name = name }, cancellationToken)).ID;

        public Task StartContainerAsync(string id, CancellationToken cancellationToken) =>
            engine.Api.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken);

        public async Task<long> WaitContainerAsync(string id, CancellationToken cancellationToken) =>
            (await engine.Api.Containers.WaitContainerAsync(id, cancellationToken)).StatusCode;
    }
}
