using System.Text.Json;
using Harmont.Aot.Cli;
using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Tests.Ir;

/// <summary><c>render</c>: a pipeline as Harmont v0 IR JSON in the graph form, which <see cref="IrDocument"/> reads back.</summary>
public sealed class IrRenderTests
{
    [Fact]
    public void Render_of_a_pipeline_with_every_feature_is_valid_v0_graph_json()
    {
        using var document = JsonDocument.Parse(IrWriter.Render(Everything.Definition));
        var root = document.RootElement;

        Assert.Equal("0", root.GetProperty("version").GetString());
        Assert.Equal("everything", root.GetProperty("slug").GetString());
        Assert.Equal("alpine:3.20", root.GetProperty("default_image").GetString());
        Assert.Equal(3600, root.GetProperty("timeout_seconds").GetInt32());
        Assert.Equal("directed", root.GetProperty("graph").GetProperty("edge_property").GetString());
        Assert.Equal(0, root.GetProperty("graph").GetProperty("node_holes").GetArrayLength());

        var nodes = root.GetProperty("graph").GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(["deps", "build", "test", "lint", "integration", "report"], nodes.Select(n => n.GetProperty("step").GetProperty("key").GetString()));

        var build = nodes[1].GetProperty("step");
        Assert.Equal("cd src && make -j", build.GetProperty("cmd").GetString());
        Assert.Equal(900, build.GetProperty("timeout_seconds").GetInt32());
        Assert.Equal("compose", build.GetProperty("cache").GetProperty("policy").GetString());
        Assert.Equal(
            """[{"policy":"on_change","paths":["src/**","Makefile"]},{"policy":"ttl","duration_seconds":604800,"env_keys":[]}]""",
            Compact(build.GetProperty("cache").GetProperty("sub_policies")));

        var test = nodes[2];
        Assert.Equal("Unit \"tests\"", test.GetProperty("step").GetProperty("label").GetString());
        Assert.Equal("""{"CC":"gcc"}""", Compact(test.GetProperty("step").GetProperty("env")));
        Assert.Equal("""{"CI":"true","CC":"gcc"}""", Compact(test.GetProperty("env")));

        Assert.Equal($"make lint -j{Environment.ProcessorCount}", nodes[3].GetProperty("step").GetProperty("cmd").GetString());
        Assert.Equal("""{"REGISTRY_TOKEN":"REGISTRY_TOKEN","NPM_TOKEN":"NPM_TOKEN"}""", Compact(nodes[3].GetProperty("step").GetProperty("secrets")));

        var integration = nodes[4].GetProperty("step");
        Assert.Equal("debian:12", integration.GetProperty("image").GetString());
        Assert.Equal("docker", integration.GetProperty("runner").GetString());
        Assert.Equal("""{"policy":"ttl","duration_seconds":43200,"env_keys":["NODE_VERSION"]}""", Compact(integration.GetProperty("cache")));
        Assert.False(nodes[0].GetProperty("step").TryGetProperty("image", out _));

        Assert.Equal(
            """[[0,1,"builds_in"],[1,2,"builds_in"],[1,3,"builds_in"],[0,5,"depends_on"],[1,5,"depends_on"],[2,5,"depends_on"],[3,5,"depends_on"],[4,5,"depends_on"]]""",
            Compact(root.GetProperty("graph").GetProperty("edges")));
    }

    [Fact]
    public void Rendered_graph_reads_back_into_the_same_graph_and_settings()
    {
        // The rendered paths: the glob "src/**" stays a glob, "Makefile" is a file of the repository.
        var root = Directory.CreateTempSubdirectory("harmont-ir-").FullName;
        File.WriteAllText(Path.Combine(root, "Makefile"), "all:\n");
        var path = Path.Combine(root, "rendered.json");
        File.WriteAllText(path, IrWriter.Render(Everything.Definition));

        var loaded = IrDocument.Load(path, new IrReadOptions(root));
        var original = Everything.Definition;

        Assert.Equal(original.Slug, loaded.Slug);
        Assert.Equal(original.DefaultImage, loaded.DefaultImage);
        Assert.Equal(original.Timeout, loaded.Timeout);
        Assert.Equal(original.Env, loaded.Env);
        foreach (var (before, after) in original.Steps.Zip(loaded.Steps))
        {
            Assert.Equal(before.Key, after.Key);
            Assert.Equal(before.Label, after.Label);
            Assert.Equal(before.From, after.From);
            Assert.Equal(before.After, after.After);
            Assert.Equal(before.Image, after.Image);
            Assert.Equal(before.Env, after.Env);
            Assert.Equal(before.Secrets, after.Secrets);
            Assert.Equal(before.Runner, after.Runner);
            Assert.Equal(before.Cache, after.Cache);
            Assert.Equal(before.Timeout, after.Timeout);
        }

        Assert.Equal("cd src && make -j", loaded.Steps[1].Command());
    }

    [Fact]
    public void Render_verb_prints_the_named_pipeline_and_rejects_an_unknown_one_with_exit_2()
    {
        var (exit, output, _) = Invoke([HostChain.Definition, Everything.Definition], "render", "host-chain");
        Assert.Equal(0, exit);
        using (var document = JsonDocument.Parse(output))
        {
            Assert.Equal("host-chain", document.RootElement.GetProperty("slug").GetString());
            Assert.Equal("host", document.RootElement.GetProperty("runner").GetString());
        }

        var (badExit, _, error) = Invoke([HostChain.Definition, Everything.Definition], "render", "nope");
        Assert.Equal(2, badExit);
        Assert.Contains("no pipeline named 'nope'", error, StringComparison.Ordinal);
    }

    internal static (int Exit, string Output, string Error) Invoke(IReadOnlyList<PipelineDefinition> pipelines, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(
            output, error, Environment.CurrentDirectory, Environment.GetEnvironmentVariable,
            DockerConnectors.FromEnvironment(Environment.GetEnvironmentVariable), TestContext.Current.CancellationToken);
        var exit = HarmontCli.RunAsync(args, pipelines, context).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element, IrTestJson.Default.JsonElement);
}
