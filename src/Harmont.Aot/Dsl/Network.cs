namespace Harmont.Aot;

/// <summary>Which network a Docker step's container joins (docs/cli.md, "Network").</summary>
public enum Network
{
    /// <summary>
    /// The engine's default, a bridge network: the step reaches the outside world (package mirrors) through NAT. Steps
    /// that run one after another reuse a namespace on it, which saves making one per container; steps running at the
    /// same time never share one.
    /// </summary>
    Default = 0,

    /// <summary>The engine's bridge network in a namespace of the step's own, made for its container and gone with it.</summary>
    Bridge = 1,

    /// <summary>
    /// No network but loopback: a hermetic step. Its container gets a namespace of its own, so it starts slower than one on
    /// <see cref="Default"/>'s shared namespace, though faster than one on <see cref="Bridge"/> (no veth pair to make and tear down).
    /// </summary>
    None = 2,

    /// <summary>The host's own network stack: the cheapest container, but the step shares the host's ports and its localhost.</summary>
    Host = 3,
}
