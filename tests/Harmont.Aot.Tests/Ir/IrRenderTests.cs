using System.Text.Json;
using Harmont.Aot.Cli;
using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Ir;

/// <summary><c>render</c>: a pipeline as Harmont v0 IR JSON in the graph form, which <see cref="IrDocument"/> reads back.</summary>
[NotInParallel(nameof(IrRenderTests))]
public sealed class IrRenderTests
{
    [Test]
    public async Task Render_of_a_pipeline_with_every_feature_is_valid_v0_graph_json()
    {
        using var document = JsonDocument.Parse(IrWriter.Render(Everything.Definition));
        var root = document.RootElement;

        await Assert.That(root.GetProperty("version").GetString()).IsEqualTo("0");
        await Assert.That(root.GetProperty("slug").GetString()).IsEqualTo("everything");
        await Assert.That(root.GetProperty("default_image").GetString()).IsEqualTo("alpine:3.20");
        await Assert.That(root.GetProperty("timeout_seconds").GetInt32()).IsEqualTo(3600);
        await Assert.That(root.GetProperty("graph").GetProperty("edge_property").GetString()).IsEqualTo("directed");
        await Assert.That(root.GetProperty("graph").GetProperty("node_holes").GetArrayLength()).IsEqualTo(0);

        var nodes = root.GetProperty("graph").GetProperty("nodes").EnumerateArray().ToList();
        await Assert.That(nodes.Select(n => n.GetProperty("step").GetProperty("key").GetString()))
            .IsEquivalentTo((IEnumerable<string?>)["deps", "build", "test", "lint", "integration", "report"], CollectionOrdering.Matching);

        var build = nodes[1].GetProperty("step");
        await Assert.That(build.GetProperty("cmd").GetString()).IsEqualTo("cd src && make -j");
        await Assert.That(build.GetProperty("timeout_seconds").GetInt32()).IsEqualTo(900);
        await Assert.That(build.GetProperty("cache").GetProperty("policy").GetString()).IsEqualTo("compose");
        await Assert.That(Compact(build.GetProperty("cache").GetProperty("sub_policies")))
            .IsEqualTo("""[{"policy":"on_change","paths":["src/**","Makefile"]},{"policy":"ttl","duration_seconds":604800,"env_keys":[]}]""");

        var test = nodes[2];
        await Assert.That(test.GetProperty("step").GetProperty("label").GetString()).IsEqualTo("Unit \"tests\"");
        await Assert.That(Compact(test.GetProperty("step").GetProperty("env"))).IsEqualTo("""{"CC":"gcc"}""");
        await Assert.That(Compact(test.GetProperty("env"))).IsEqualTo("""{"CI":"true","CC":"gcc"}""");

        await Assert.That(nodes[3].GetProperty("step").GetProperty("cmd").GetString()).IsEqualTo($"make lint -j{Environment.ProcessorCount}");
        await Assert.That(Compact(nodes[3].GetProperty("step").GetProperty("secrets")))
            .IsEqualTo("""{"REGISTRY_TOKEN":"REGISTRY_TOKEN","NPM_TOKEN":"NPM_TOKEN"}""");

        var integration = nodes[4].GetProperty("step");
        await Assert.That(integration.GetProperty("image").GetString()).IsEqualTo("debian:12");
        await Assert.That(integration.GetProperty("runner").GetString()).IsEqualTo("docker");
        await Assert.That(Compact(integration.GetProperty("cache")))
            .IsEqualTo("""{"policy":"ttl","duration_seconds":43200,"env_keys":["NODE_VERSION"]}""");
        await Assert.That(nodes[0].GetProperty("step").TryGetProperty("image", out _)).IsFalse();

        await Assert.That(Compact(root.GetProperty("graph").GetProperty("edges")))
            .IsEqualTo("""[[0,1,"builds_in"],[1,2,"builds_in"],[1,3,"builds_in"],[0,5,"depends_on"],[1,5,"depends_on"],[2,5,"depends_on"],[3,5,"depends_on"],[4,5,"depends_on"]]""");
    }

    [Test]
    public async Task Rendered_graph_reads_back_into_the_same_graph_and_settings()
    {
        // The rendered paths: the glob "src/**" stays a glob, "Makefile" is a file of the repository.
        var root = Directory.CreateTempSubdirectory("harmont-ir-").FullName;
        File.WriteAllText(Path.Combine(root, "Makefile"), "all:\n");
        var path = Path.Combine(root, "rendered.json");
        File.WriteAllText(path, IrWriter.Render(Everything.Definition));

        var loaded = IrDocument.Load(path, new IrReadOptions(root));
        var original = Everything.Definition;

        await Assert.That(loaded.Slug).IsEqualTo(original.Slug);
        await Assert.That(loaded.DefaultImage).IsEqualTo(original.DefaultImage);
        await Assert.That(loaded.Timeout).IsEqualTo(original.Timeout);
        await Assert.That(loaded.Env).IsEquivalentTo(original.Env, CollectionOrdering.Matching);
        foreach (var (before, after) in original.Steps.Zip(loaded.Steps))
        {
            await Assert.That(after.Key).IsEqualTo(before.Key);
            await Assert.That(after.Label).IsEqualTo(before.Label);
            await Assert.That(after.From).IsEqualTo(before.From);
            await Assert.That(after.After).IsEquivalentTo(before.After, CollectionOrdering.Matching);
            await Assert.That(after.Image).IsEqualTo(before.Image);
            await Assert.That(after.Env).IsEquivalentTo(before.Env, CollectionOrdering.Matching);
            await Assert.That(after.Secrets).IsEquivalentTo(before.Secrets, CollectionOrdering.Matching);
            await Assert.That(after.Runner).IsEqualTo(before.Runner);
            await Assert.That(after.Cache).IsEquivalentTo(before.Cache, EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
            await Assert.That(after.Timeout).IsEqualTo(before.Timeout);
        }

        await Assert.That(loaded.Steps[1].Command()).IsEqualTo("cd src && make -j");
    }

    [Test]
    public async Task Render_verb_prints_the_named_pipeline_and_rejects_an_unknown_one_with_exit_2()
    {
        var (exit, output, _) = Invoke([HostChain.Definition, Everything.Definition], "render", "host-chain");
        await Assert.That(exit).IsEqualTo(0);
        using (var document = JsonDocument.Parse(output))
        {
            await Assert.That(document.RootElement.GetProperty("slug").GetString()).IsEqualTo("host-chain");
            await Assert.That(document.RootElement.GetProperty("runner").GetString()).IsEqualTo("host");
        }

        var (badExit, _, error) = Invoke([HostChain.Definition, Everything.Definition], "render", "nope");
        await Assert.That(badExit).IsEqualTo(2);
        await Assert.That(error).Contains("no pipeline named 'nope'", StringComparison.Ordinal);
    }

    internal static (int Exit, string Output, string Error) Invoke(IReadOnlyList<PipelineDefinition> pipelines, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(
            output, error, Environment.CurrentDirectory, Environment.GetEnvironmentVariable,
            DockerConnectors.FromEnvironment(Environment.GetEnvironmentVariable), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        var exit = HarmontCli.RunAsync(args, pipelines, context).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element, IrTestJson.Default.JsonElement);
}
