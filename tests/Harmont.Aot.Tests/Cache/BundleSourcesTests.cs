namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// A bundle's source manifests are read at import by the rules a hit's child reads them with: one no run can use
/// refuses the bundle, naming the member, instead of being published and failing a child in every run after.
/// </summary>
[NotInParallel(nameof(BundleSourcesTests))]
public sealed class BundleSourcesTests : IDisposable
{
    private const string Good = "abababababababababababababababababababababababababababababababab";
    private const string Forged = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    public static IEnumerable<string> Forgeries() => ForgedSources.Names;

    [Test]
    [MethodDataSource(nameof(Forgeries))]
    public async Task A_forged_source_manifest_rejects_the_bundle_naming_its_member(string forgery)
    {
        var bundle = new HostileBundle().Entry(Good)
            .Dir($"entries/{Forged}/").File($"entries/{Forged}/entry.json", HostileBundle.Record(Forged))
            .File($"entries/{Forged}/sources", ForgedSources.Bytes(forgery)).Dir($"entries/{Forged}/workspace/")
            .Write(Path.Combine(_harness.Root, $"{forgery}.tar.zst"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains($"'entries/{Forged}/sources' is a source manifest no run can use", StringComparison.Ordinal);
    }

    [Test]
    public async Task A_bundle_whose_manifests_are_whole_imports()
    {
        var bundle = new HostileBundle().Entry(Good)
            .Dir($"entries/{Forged}/").File($"entries/{Forged}/entry.json", HostileBundle.Record(Forged))
            .File($"entries/{Forged}/sources", HostileBundle.EmptySources + "100755 - bin/run.sh\0120777 - link\0040755 - sub\0")
            .Dir($"entries/{Forged}/workspace/")
            .Write(Path.Combine(_harness.Root, "whole.tar.zst"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(import.Output).Contains("imported 2 entries", StringComparison.Ordinal);
    }
}
