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

        /// <summary>
        /// The containers carrying <paramref name="label"/> still there once the engine has had up to ten seconds to
        /// remove what a run let go of: a run's network namespace holders end as it ends, and the engine removes them.
        /// </summary>
        public Task<IList<ContainerListResponse>> ContainersLeftAsync(string label, CancellationToken cancellationToken) =>
            engine.ContainersLeftAsync([label], cancellationToken);

        /// <summary>As <see cref="ContainersLeftAsync(DockerEngine, string, CancellationToken)"/>, for containers carrying every label.</summary>
        public async Task<IList<ContainerListResponse>> ContainersLeftAsync(string[] labels, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                var left = await engine.ListContainersAsync(labels, cancellationToken);
                if (left.Count == 0 || DateTime.UtcNow > deadline)
                {
                    return left;
                }

                await Task.Delay(50, cancellationToken);
            }
        }

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
