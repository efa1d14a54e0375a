using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harmont.Aot.Tests.Distribution;

/// <summary>
/// docs/ci/github-actions.yml, read by a real YAML parser (PyYAML): Actions cannot run here, so the workflow is
/// checked for what it must do: publish the binary once, run that binary, and carry the step cache between runs.
/// </summary>
[NotInParallel(nameof(GitHubActionsWorkflowTests))]
public sealed partial class GitHubActionsWorkflowTests
{
    // PyYAML reads YAML 1.1, where a bare `on` key is the boolean true; Actions reads it as "on".
    private const string YamlToJson = """
        import json, sys, yaml
        with open(sys.argv[1], encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        if isinstance(doc, dict) and True in doc:
            doc["on"] = doc.pop(True)
        print(json.dumps(doc))
        """;

    private static readonly HashSet<string> StepKeys =
        ["name", "id", "if", "uses", "run", "with", "env", "shell", "continue-on-error", "timeout-minutes", "working-directory"];

    [Test]
    public async Task The_github_actions_example_is_valid_yaml_that_publishes_once_runs_the_binary_and_carries_the_cache(CancellationToken cancellationToken)
    {
        var path = Path.Combine(AotSmoke.RepoRoot(), "docs", "ci", "github-actions.yml");
        var (exit, json) = await Exec.RunAsync("python3", ["-c", YamlToJson, path], Path.GetDirectoryName(path)!, cancellationToken);
        await Assert.That(exit == 0).IsTrue().Because($"python3 with PyYAML (Debian: python3-yaml) must parse {path}:\n{json}");

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        await Assert.That(root.GetProperty("on").ValueKind).IsEqualTo(JsonValueKind.Object);
        var steps = root.GetProperty("jobs").EnumerateObject().SelectMany(job => job.Value.GetProperty("steps").EnumerateArray()).ToList();
        foreach (var step in steps)
        {
            foreach (var property in step.EnumerateObject())
            {
                await Assert.That(StepKeys).Contains(property.Name);
            }
            await Assert.That(step.TryGetProperty("run", out _) ^ step.TryGetProperty("uses", out _))
                .IsTrue()
                .Because($"a step has one of run and uses: {step}");
        }

        // Every `steps.<id>` an expression names is a step of the job.
        var ids = steps.Where(s => s.TryGetProperty("id", out _)).Select(s => s.GetProperty("id").GetString()).ToHashSet();
        foreach (var id in StepReference().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value))
        {
            await Assert.That(ids).Contains(id);
        }

        var runs = steps.Where(s => s.TryGetProperty("run", out _)).Select(s => s.GetProperty("run").GetString()!).ToList();
        var publish = await Assert.That(runs).HasSingleItem(run => run.Contains("dotnet publish pipeline.cs", StringComparison.Ordinal));
        var binary = $"{PublishOutput().Match(publish).Groups[1].Value}/pipeline\"";
        await Assert.That(publish).DoesNotContain("-p:", StringComparison.Ordinal);
        await Assert.That(runs).DoesNotContain(run => run.Contains("dotnet run", StringComparison.Ordinal));
        await Assert.That(runs).Contains(run => run.Trim() == $"\"{binary}");
        await Assert.That(runs).Contains(run => run.Contains($"{binary} cache import ", StringComparison.Ordinal));
        await Assert.That(runs).Contains(run => run.Contains($"{binary} cache export ", StringComparison.Ordinal));

        // The bundle is restored from and saved to one path: actions/cache keys an entry by its paths too.
        var restore = await Assert.That(steps).HasSingleItem(s => Uses(s).StartsWith("actions/cache/restore@", StringComparison.Ordinal));
        var save = await Assert.That(steps).HasSingleItem(s => Uses(s).StartsWith("actions/cache/save@", StringComparison.Ordinal));
        await Assert.That(save.GetProperty("with").GetProperty("path").GetString())
            .IsEqualTo(restore.GetProperty("with").GetProperty("path").GetString());
    }

    private static string Uses(JsonElement step) => step.TryGetProperty("uses", out var uses) ? uses.GetString()! : "";

    [GeneratedRegex(@"\bsteps\.([A-Za-z0-9_-]+)\.")]
    private static partial Regex StepReference();

    [GeneratedRegex(@"-o ""([^""]+)""")]
    private static partial Regex PublishOutput();
}
