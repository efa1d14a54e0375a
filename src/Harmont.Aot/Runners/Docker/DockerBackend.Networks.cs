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
    private readonly List<string> _networkHolders = [];
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

    // Called once the step's own container has started, so the two starts do not compete: a holder for the steps
    // after, when some may still run and none is free or being started.
    private void StartHolderFor(StepInvocation invocation, string image)
    {
        if (invocation.Network != Network.Default || RunLock is null || !invocation.NetworkSharedLater)
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

    // A container that only holds a namespace: sh waits on its stdin, which the engine keeps open. Any step image
    // has sh. Labelled as the run's, so the run's reap removes it, and a dead run's is reaped with the rest.
    private async Task StartHolderAsync(string runId, string image)
    {
        var name = DockerNames.ContainerName(runId, "network");
        try
        {
            var id = (await _engine.Api.Containers.CreateContainerAsync(
                new CreateContainerParameters
                {
                    Name = name,
                    Image = image,
                    Cmd = ["sh", "-c", "read -r _"],
                    OpenStdin = true,
                    Labels = WithLock(new(StringComparer.Ordinal)
                    {
                        [DockerNames.OwnerLabel] = "1",
                        [DockerNames.RunLabel] = runId,
                        [DockerNames.StepLabel] = NetworkHolderStep,
                    }),
                    HostConfig = new HostConfig { NetworkMode = "default", LogConfig = new LogConfig { Type = "none" } },
                },
                CancellationToken.None)).ID;
            lock (_networkGate)
            {
                _networkHolders.Add(name);
            }

            await _engine.Api.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None);
            lock (_networkGate)
            {
                _freeNetworks.Push(id);
                _holderStarting = null;
            }
        }
        catch (Exception ex) when (DockerEngine.IsFailure(ex))
        {
            // Steps keep a namespace each, as they always had.
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

    // At the run's end: no step uses a holder any more.
    private async Task RemoveNetworkHoldersAsync()
    {
        Task? starting;
        string[] holders;
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

        await Task.WhenAll(holders.Select(h => RemoveContainerAsync(h, kill: true, rethrow: false)));
    }
}
