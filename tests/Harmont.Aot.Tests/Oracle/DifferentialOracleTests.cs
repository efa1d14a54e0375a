using System.Runtime.Versioning;
using Harmont.Aot.Tests.Workspaces;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// DESIGN §4.2's invariant, differentially: over generated repositories, pipelines and edit sequences,
/// a run with cache hits hits exactly what an independent model predicts, and every step it executes
/// prints and leaves what the same step prints and leaves in a cold run. Every workspace strategy (forced,
/// reflink on a real XFS mount), host and Docker. A failure names its seed and prints a shrunk reproduction.
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class DifferentialOracleTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    [Fact]
    public async Task Host_runs_with_cache_hits_equal_cold_runs() =>
        await OracleDriver.PlayAsync(docker: false, ciCount: 150, xfs.NewDirectory("oracle"));

    [Fact]
    [Trait("Requires", "docker")]
    public async Task Docker_runs_with_cache_hits_equal_cold_runs()
    {
        await BusyboxImage.EnsureAsync();
        await OracleDriver.PlayAsync(docker: true, ciCount: 15, xfs.NewDirectory("oracle"));
    }
}
