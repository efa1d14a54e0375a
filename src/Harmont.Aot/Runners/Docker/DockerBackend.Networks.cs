using Docker.DotNet;
using Docker.DotNet.Models;
using Harmont.Aot.Model;

namespace Harmont.Aot.Runners.Docker;

// Steps on the default network reuse a few network namespaces on the engine's bridge, one per step running at once.
internal sealed partial class DockerBackend
{
    // The label value a namespace holder carries in place of a step's key.
    internal const string NetworkHolderStep = "(network)";

    private readonly Lock _networkGate = new();
    private readonly Stack<string> _freeNetworks = new();
    private readonly List<NetworkHolder> _networkHolders = [];
    private Task? _holderStarting;
    private bool _noHolders;

    /// <summary>
    /// The network a step's container joins. A step on <see cref="Network.Default"/> joins a free namespace of the
    /// run's on the engine's bridge (<c>container:</c> a holder), so its container starts without making and tearing
    /// down a veth pair and a namespace: about 150 ms a step (bench/README.md, per-step overhead). Steps running at
    /// the same time never share one; the next step on the same slot does. With none free the step gets its own
    /// bridge namespace as before, and, if steps on the default network may still run after it
    /// (<see cref="StepInvocation.NetworkSharedLater"/>), a holder is started beside it for them. Give it back with
    /// <see cref="ReturnNetwork"/>.
    /// </summary>
    private string TakeNetwork(StepInvocation invocation)
    {
        if (invocation.Network == Network.Default && RunLock is not null)
        {
            lock (_networkGate)
            {
                if (_freeNetworks.TryPop(out var holder))
                {
                    return $"container:{holder}";
                }
            }
        }

        return NetworkMode(invocation);
    }

    // Called once a step's container has started on a namespace of its own (none was free), so the two starts do
    // not compete: a holder for the steps after, when some may still run and none is being started. A step on a
    // shared namespace starts none: it hands its own on when it ends, so a chain keeps one namespace throughout.
    private void StartHolderFor(StepInvocation invocation, ImageInspectResponse image, string network)
    {
        if (invocation.Network != Network.Default || RunLock is null || !invocation.NetworkSharedLater
            || network.StartsWith("container:", StringComparison.Ordinal))
        {
            return;
        }

        lock (_networkGate)
        {
            if (!_noHolders && _holderStarting is null && _freeNetworks.Count == 0)
            {
                _holderStarting = Task.Run(() => StartHolderAsync(invocation.RunId, image));
            }
        }
    }

    // A step that ended normally hands its namespace on; one killed or broken does not, and it goes with the run.
    private void ReturnNetwork(string networkMode)
    {
        if (networkMode.StartsWith("container:", StringComparison.Ordinal))
        {
            lock (_networkGate)
            {
                _freeNetworks.Push(networkMode["container:".Length..]);
            }
        }
    }

    // A container that only holds a namespace: sh reads its stdin, which this backend holds open through an
    // attach, and the engine closes when the attach goes (StdinOnce). So the holder ends, and the engine removes
    // it (AutoRemove), when the run lets go of it or dies: nothing waits on a kill. Any step image has sh.
    // Labelled as the run's, so a dead run's is reaped with the rest if the engine did not remove it.
    private async Task StartHolderAsync(string runId, ImageInspectResponse image)
    {
        var name = DockerNames.ContainerName(runId, "network");
        MultiplexedStream? stdin = null;
        try
        {
            var id = (await _engine.Api.Containers.CreateContainerAsync(
                new CreateContainerParameters
                {
                    Name = name,
                    Image = image.ID,
                    Cmd = ["sh", "-c", "read -r _"],
                    AttachStdin = true,
                    OpenStdin = true,
                    StdinOnce = true,
                    Labels = WithLock(new(StringComparer.Ordinal)
                    {
                        [DockerNames.OwnerLabel] = "1",
                        [DockerNames.RunLabel] = runId,
                        [DockerNames.StepLabel] = NetworkHolderStep,
                    }),
                    HostConfig = new HostConfig { NetworkMode = "default", AutoRemove = true, LogConfig = new LogConfig { Type = "none" } },
                },
                CancellationToken.None)).ID;
            var holder = new NetworkHolder(id, IsOurs(image));
            lock (_networkGate)
            {
                _networkHolders.Add(holder);
            }

            holder.Stdin = stdin = await _engine.Api.Containers.AttachContainerAsync(
                id, new ContainerAttachParameters { Stream = true, Stdin = true }, CancellationToken.None);
            await _engine.Api.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None);
            lock (_networkGate)
            {
                _freeNetworks.Push(id);
                _holderStarting = null;
            }
        }
        catch (Exception ex) when (DockerEngine.IsFailure(ex))
        {
            // Steps keep a namespace each, as they always had; one made but not started goes with the run.
            stdin?.Dispose();
            lock (_networkGate)
            {
                _noHolders = true;
                _holderStarting = null;
            }
        }
    }

    private void StopSharingNetworks()
    {
        lock (_networkGate)
        {
            _noHolders = true;
            _freeNetworks.Clear();
        }
    }

    /// <summary>
    /// At the run's end, when no step uses a holder any more: lets go of each holder's stdin, so it ends and the
    /// engine removes it. The run waits only for a holder on an image of its own (a snapshot or a cached step's),
    /// which it may remove next; the engine's teardown of a bridge namespace takes over 100 ms.
    /// </summary>
    private async Task RemoveNetworkHoldersAsync()
    {
        Task? starting;
        NetworkHolder[] holders;
        lock (_networkGate)
        {
            _noHolders = true;
            starting = _holderStarting;
        }

        if (starting is not null)
        {
            await starting;
        }

        lock (_networkGate)
        {
            holders = [.. _networkHolders];
            _networkHolders.Clear();
            _freeNetworks.Clear();
        }

        await Task.WhenAll(holders.Select(async holder =>
        {
            if (holder.Stdin is not { } stdin)
            {
                await RemoveContainerAsync(holder.Id, kill: true, rethrow: false);
                return;
            }

            stdin.Dispose();
            if (holder.OnOurImage)
            {
                await AwaitGoneAsync(holder.Id);
            }
        }));
    }

    // A holder that has not gone in time is removed by force, as before holders ended themselves.
    private async Task AwaitGoneAsync(string id)
    {
        try
        {
            if (!await _engine.WaitGoneAsync(id, HolderExitTimeout, CancellationToken.None))
            {
                await RemoveContainerAsync(id, kill: true, rethrow: false);
            }
        }
        catch (Exception ex) when (DockerEngine.IsFailure(ex))
        {
            // The engine's own error goes with the run's reap; the holder is labelled for the next run's.
        }
    }

    private static readonly TimeSpan HolderExitTimeout = TimeSpan.FromSeconds(10);

    // Made by this runner (a snapshot or a cached step's image), whatever cache or run it belongs to.
    private static bool IsOurs(ImageInspectResponse image) =>
        image.Config?.Labels is { } labels && labels.TryGetValue(DockerNames.OwnerLabel, out var owner) && owner == "1";

    // A namespace holder: its stdin, held open until the run's end, and whether it runs on an image of ours.
    private sealed class NetworkHolder(string id, bool onOurImage)
    {
        public string Id { get; } = id;

        public bool OnOurImage { get; } = onOurImage;

        public MultiplexedStream? Stdin { get; set; }
    }
}
