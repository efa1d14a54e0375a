using System.Runtime.Versioning;
using Harmont.Aot.Tests.Workspaces;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// The source-delta rule of docs/workspaces.md, differentially: over generated repositories, pipelines and edit sequences,
/// a run with cache hits hits exactly what an independent model predicts, and every step it executes
/// prints and leaves what the same step prints and leaves in a cold run. Every workspace strategy (forced,
/// reflink on a real XFS mount), host and Docker; on the host also with the cache carried between runs by
/// 'cache export'/'cache import' and by the shared cache. A failure names its seed and prints a shrunk reproduction.
/// </summary>
/// <remarks>
/// <c>HARMONT_ORACLE_SEED=S</c> (or <c>docker:S</c>) replays one seed; <c>HARMONT_ORACLE_SOAK=N</c> plays N fresh
/// host seeds (<c>HARMONT_ORACLE_SOAK_FROM</c> fixes the first); <c>HARMONT_ORACLE_JOBS</c> sets how many play at
/// once (2); <c>HARMONT_ORACLE_SHRINK=0</c> reports without shrinking; <c>HARMONT_ORACLE_HOST_PWD=0</c> keeps host
/// steps from writing <c>$PWD</c> (see <see cref="OracleDriver.HostPwdSteps"/>).
/// </remarks>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(DifferentialOracleTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class DifferentialOracleTests(XfsLoopMount xfs)
{
    [Test]
    public async Task Host_runs_with_cache_hits_equal_cold_runs() =>
        await OracleDriver.PlayAsync(docker: false, ciCount: 150, xfs.NewDirectory("oracle"));

    // The same scenarios with each run's hits imported from the bundle the run before exported (the CI cache recipe).
    [Test]
    public async Task Host_runs_with_hits_from_an_imported_bundle_equal_cold_runs() =>
        await OracleDriver.PlayAsync(docker: false, ciCount: 40, xfs.NewDirectory("oracle"), Carrier.Bundle);

    // The same scenarios with each run on an empty machine, every hit fetched from a real registry.
    [Test]
    public async Task Host_runs_with_hits_fetched_from_the_shared_cache_equal_cold_runs()
    {
        await using var registry = await RegistryServer.SharedAsync();
        await OracleDriver.PlayAsync(docker: false, ciCount: 40, xfs.NewDirectory("oracle"), Carrier.Remote, registry.Remote("oracle"));
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Docker_runs_with_cache_hits_equal_cold_runs()
    {
        await BusyboxImage.EnsureAsync();
        await OracleDriver.PlayAsync(docker: true, ciCount: 15, xfs.NewDirectory("oracle"));
    }
}
