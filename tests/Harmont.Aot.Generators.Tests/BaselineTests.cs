using System.Runtime.CompilerServices;
using Harmont.Aot.Generators.Tests.Support;

namespace Harmont.Aot.Generators.Tests;

/// <summary>
/// Generated text against checked-in baselines. After an intended change to the emitted code, run
/// the tests with HARMONT_UPDATE_BASELINES=1 to rewrite the files, and review the diff.
/// </summary>
[NotInParallel(nameof(BaselineTests))]
public sealed class BaselineTests
{
    private const string UpdateVariable = "HARMONT_UPDATE_BASELINES";

    [Test]
    [Arguments("Ci.g.cs")]
    [Arguments("Harmont.Aot.Generated.PipelineCatalog.g.cs")]
    public async Task Generated_text_matches_the_baseline(string hintName)
    {
        var run = GeneratorHarness.Run(Samples.Ci);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Match(hintName, run.Source(hintName));
    }

    [Test]
    public async Task Nested_pipeline_text_matches_the_baseline() =>
        await Match("Acme.Build.Pipelines.Release.g.cs", GeneratorHarness.Run(Samples.Nested).Source("Acme.Build.Pipelines.Release.g.cs"));

    [Test]
    public async Task Pipeline_with_every_feature_matches_the_baseline()
    {
        var run = GeneratorHarness.Run(Samples.Full);
        await Assert.That(run.Diagnostics).IsEmpty();
        await Match("Full.g.cs", run.Source("Full.g.cs"));
    }

    private static async Task Match(string hintName, string actual, [CallerFilePath] string testFile = "")
    {
        var name = Path.Combine("Baselines", hintName + ".txt");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            // A rewrite lands in the source tree, which is where the compiler saw this file.
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(testFile)!, name), actual);
            return;
        }

        // Compare against the copy next to the test assembly: the compile-time path of this file
        // is gone when the build ran in another directory (a CI workspace, say).
        var path = Path.Combine(AppContext.BaseDirectory, name);

        await Assert.That(File.Exists(path)).IsTrue().Because($"No baseline at {path}. Run the tests with {UpdateVariable}=1 to create it.");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected == actual)
        {
            return;
        }

        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
        {
            line++;
        }

        Assert.Fail(
            $"""
            Generated {hintName} differs from {path} at line {line + 1}:
              expected: {(line < expectedLines.Length ? expectedLines[line] : "<end of file>")}
              actual:   {(line < actualLines.Length ? actualLines[line] : "<end of file>")}
            If the change is intended, run the tests with {UpdateVariable}=1 and review the baseline diff.
            Full generated text:
            {actual}
            """);
    }
}
