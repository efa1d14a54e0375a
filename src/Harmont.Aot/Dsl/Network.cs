namespace Harmont.Aot;

/// <summary>Which network a Docker step's container joins (docs/cli.md, "Network").</summary>
public enum Network
{
    /// <summary>The engine's default, a bridge network: the step reaches the outside world (package mirrors) through NAT.</summary>
    Default = 0,

    /// <summary>The engine's bridge network, said explicitly; the same as <see cref="Default"/> except in the step's key.</summary>
    Bridge = 1,

    /// <summary>No network but loopback: a hermetic step, and a cheaper container (no veth pair to make and tear down).</summary>
    None = 2,

    /// <summary>The host's own network stack: the cheapest container, but the step shares the host's ports and its localhost.</summary>
    Host = 3,
}
