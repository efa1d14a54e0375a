using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Ir;

/// <summary><c>run --ir</c>'s input: both v0 IR forms, and errors that name the field and the fix.</summary>
[NotInParallel(nameof(IrLoadTests))]
public sealed class IrLoadTests : IDisposable
{
    // A repository holding what the documents' on_change paths name.
    private readonly string _root = CreateRoot();
    // The shape harmont-py's pipeline_to_json emits: optional fields left out, builds_in null for roots,
    // cache.key precomputed, wait barriers between command steps.
    private const string StepsList = """
        {"version": "0", "env": {"CI": "true"}, "default_image": "alpine:3.20", "steps": [
          {"type": "command", "key": "install", "label": "install", "cmd": "apk add make", "builds_in": null,
           "cache": {"policy": "ttl", "duration_seconds": 86400, "env_keys": [], "key": "3f5c0e7a9b1d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"}},
          {"type": "command", "key": "build", "cmd": "make", "builds_in": "install", "env": {"CC": "gcc", "CI": "yes"}, "timeout_seconds": 300},
          {"type": "command", "key": "lint", "cmd": "make lint", "builds_in": "install",
           "cache": {"policy": "compose", "sub_policies": [{"policy": "forever", "env_keys": ["FOO"]}, {"policy": "on_change", "paths": ["a.txt", "src/**"]}]}},
          {"type": "wait"},
          {"type": "command", "key": "publish", "label": "Publish", "cmd": "echo publish", "builds_in": null, "image": "debian:12", "runner": "host"},
          {"type": "wait", "continue_on_failure": false},
          {"type": "command", "key": "notify", "cmd": "echo done", "builds_in": null}
        ]}
        """;

    // The shape harmont-cli's lowering and `render` emit (petgraph-serde).
    private const string Graph = """
        {"version": "0", "default_image": "ubuntu:24.04", "timeout_seconds": 1800, "graph": {
          "edge_property": "directed", "node_holes": [],
          "nodes": [
            {"env": {"CI": "true"}, "step": {"key": "apt", "label": ":c: apt-base", "cmd": "apt-get update", "image": "ubuntu:24.04",
                                             "cache": {"policy": "ttl", "duration_seconds": 86400, "env_keys": []}}},
            {"env": {"CI": "true"}, "step": {"key": "build", "cmd": "make", "cache": {"policy": "forever", "env_keys": []}}},
            {"env": {"CI": "true", "X": "1"}, "step": {"key": "test", "eval": {"type": "cmd", "cmd": "make test"}, "env": {"X": "1"}, "timeout_seconds": 60}},
            {"env": {}, "step": {"key": "report", "cmd": "echo report", "cache": null, "label": null, "image": null}}
          ],
          "edges": [[0, 1, "builds_in"], [1, 2, "builds_in"], [2, 3, "depends_on"], [1, 3, "depends_on"]]
        }}
        """;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task A_steps_network_mode_is_read_and_rendered_back()
    {
        const string Document = """
            {"version": "0", "default_image": "alpine:3.20", "steps": [
              {"type": "command", "key": "offline", "cmd": "make", "builds_in": null, "network": "none"},
              {"type": "command", "key": "shared", "cmd": "make check", "builds_in": "offline", "network": "host"},
              {"type": "command", "key": "plain", "cmd": "make install", "builds_in": "offline"}
            ]}
            """;
        var pipeline = IrDocument.Parse(Document, "net.json", new IrReadOptions(_root, "net"));
        await Assert.That(pipeline.Steps.Select(s => s.Network))
            .IsEquivalentTo((IEnumerable<Network>)[Network.None, Network.Host, Network.Default], CollectionOrdering.Matching);

        var again = IrDocument.Parse(IrWriter.Render(pipeline), "again.json", new IrReadOptions(_root, "net"));
        await Assert.That(again.Steps.Select(s => s.Network))
            .IsEquivalentTo((IEnumerable<Network>)[Network.None, Network.Host, Network.Default], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Steps_list_form_reads_lineage_wait_barriers_env_cache_and_settings()
    {
        var pipeline = IrDocument.Parse(StepsList, "ci.json", new IrReadOptions(_root, "ci"));
        var steps = pipeline.Steps.ToDictionary(s => s.Key);

        await Assert.That(pipeline.Slug).IsEqualTo("ci");
        await Assert.That(pipeline.DefaultImage).IsEqualTo("alpine:3.20");
        await Assert.That(pipeline.Steps.Select(s => s.Key))
            .IsEquivalentTo((IEnumerable<string>)["install", "build", "lint", "publish", "notify"], CollectionOrdering.Matching);

        await Assert.That(steps["install"].From).IsNull();
        await Assert.That(steps["build"].From).IsEqualTo("install");
        await Assert.That(steps["lint"].From).IsEqualTo("install");
        await Assert.That(steps["publish"].After).IsEquivalentTo((IEnumerable<string>)["install", "build", "lint"], CollectionOrdering.Matching);
        await Assert.That(steps["notify"].After).IsEquivalentTo((IEnumerable<string>)["publish"], CollectionOrdering.Matching);
        await Assert.That(steps["build"].After).IsEmpty();

        await Assert.That(steps["build"].Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CI", "yes"), new("CC", "gcc")], CollectionOrdering.Matching);
        await Assert.That(steps["install"].Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CI", "true")], CollectionOrdering.Matching);
        await Assert.That(steps["build"].Timeout).IsEqualTo(TimeSpan.FromMinutes(5));
        await Assert.That(steps["build"].Command()).IsEqualTo("make");
        await Assert.That(steps["publish"].Label).IsEqualTo("Publish");
        await Assert.That(steps["build"].Label).IsEqualTo("build");
        await Assert.That(steps["publish"].Image).IsEqualTo("debian:12");
        await Assert.That(steps["publish"].Runner).IsEqualTo(Runner.Host);
        await Assert.That(steps["build"].Runner).IsEqualTo(Runner.Inherit);

        await Assert.That(steps["install"].Cache)
            .IsEquivalentTo((IEnumerable<CachePolicy>)[new TtlCachePolicy(TimeSpan.FromDays(1), [])], EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
        await Assert.That(steps["lint"].Cache)
            .IsEquivalentTo((IEnumerable<CachePolicy>)[new ForeverCachePolicy(["FOO"]), new OnChangeCachePolicy(["a.txt", "src/**"])], EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
        await Assert.That(steps["build"].Cache).IsEmpty();
    }

    [Test]
    public async Task Graph_form_reads_nodes_edges_merged_env_and_the_build_timeout()
    {
        var pipeline = IrDocument.Parse(Graph, "kitchen-sink.json", new IrReadOptions(_root, "kitchen-sink"));
        var steps = pipeline.Steps.ToDictionary(s => s.Key);

        await Assert.That(pipeline.Slug).IsEqualTo("kitchen-sink");
        await Assert.That(pipeline.Timeout).IsEqualTo(TimeSpan.FromMinutes(30));
        await Assert.That(steps["apt"].Image).IsEqualTo("ubuntu:24.04");
        await Assert.That(steps["apt"].Label).IsEqualTo(":c: apt-base");
        await Assert.That(steps["build"].From).IsEqualTo("apt");
        await Assert.That(steps["test"].From).IsEqualTo("build");
        await Assert.That(steps["report"].After).IsEquivalentTo((IEnumerable<string>)["test", "build"], CollectionOrdering.Matching);
        await Assert.That(steps["report"].From).IsNull();
        await Assert.That(steps["test"].Command()).IsEqualTo("make test");
        await Assert.That(steps["test"].Env)
            .IsEquivalentTo((IEnumerable<KeyValuePair<string, string>>)[new("CI", "true"), new("X", "1")], CollectionOrdering.Matching);
        await Assert.That(steps["report"].Env).IsEmpty();
        await Assert.That(steps["build"].Cache)
            .IsEquivalentTo((IEnumerable<CachePolicy>)[new ForeverCachePolicy([])], EqualityComparer<CachePolicy>.Default, CollectionOrdering.Matching);
        await Assert.That(steps["report"].Label).IsEqualTo("report");
    }

    [Test]
    public async Task Missing_file_is_a_pipeline_error_naming_the_path()
    {
        var error = (await Assert.That(() => IrDocument.Load("/nonexistent/harmont.json", new IrReadOptions(_root))).ThrowsExactly<PipelineException>())!;
        await Assert.That(error.Message).Contains("/nonexistent/harmont.json", StringComparison.Ordinal);
        await Assert.That(error.Message).Contains("--ir", StringComparison.Ordinal);
    }

    [Test]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "timeout_seconds": 0}]}""", "x.json: steps[0].timeout_seconds is 0, which is not positive; give a positive number of seconds, or remove the field.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "cmd": "x"}]}""", "x.json: steps[0].key is missing; give every step a unique \"key\".")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a"}]}""", "x.json: steps[0].cmd is missing; give the shell command to run, e.g. \"cmd\": \"make test\".")]
    [Arguments("""{"version": "0", "steps": [{"key": "a", "cmd": "x"}]}""", "x.json: steps[0].type is missing; set \"type\" to \"command\" or \"wait\".")]
    [Arguments("""{"version": "0", "steps": [{"type": "trigger", "key": "a", "cmd": "x"}]}""", "x.json: steps[0].type is \"trigger\"; set \"type\" to \"command\" or \"wait\".")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "cache": {"policy": "sometimes"}}]}""", "x.json: steps[0].cache.policy is \"sometimes\", which is not a cache policy; use \"none\", \"forever\", \"ttl\", \"on_change\" or \"compose\".")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "cache": {"policy": "ttl"}}]}""", "x.json: steps[0].cache.duration_seconds is missing; a ttl policy needs \"duration_seconds\", e.g. 86400 for a day.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "cache": {"policy": "on_change", "paths": []}}]}""", "x.json: steps[0].cache.paths is empty; list at least one file or directory to watch.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "env": {"A": 1}}]}""", "x.json: steps[0].env.A must be a string, not the number 1; write env as an object of string values, e.g. {\"CC\": \"gcc\"}.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "runner": "freestyle"}]}""", "x.json: steps[0].runner is \"freestyle\", which is not a backend of this runner; use \"auto\", \"docker\" or \"host\", or remove the field.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "network": "overlay"}]}""", "x.json: steps[0].network is \"overlay\", which is not a network mode; use \"bridge\", \"none\" or \"host\", or remove the field.")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "runner_args": {"region": "us"}}]}""", "x.json: steps[0].runner_args is set, but the docker and host runners take no arguments; remove \"runner_args\".")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "secrets": {"TOKEN": "npm-token"}}]}""", "x.json: steps[0].secrets.TOKEN maps to the secret \"npm-token\", but this runner reads a secret from its environment variable of the same name; write \"TOKEN\": \"TOKEN\" and export TOKEN where the runner starts.")]
    [Arguments("""{"version": "0", "steps": [{"type": "wait", "continue_on_failure": true}]}""", "x.json: steps[0].continue_on_failure is true, which this runner does not support; remove it, and run with --keep-going to let independent branches finish.")]
    [Arguments("""{"version": "1", "steps": []}""", "x.json: version is the string \"1\"; this runner reads Harmont v0 IR; set \"version\": \"0\" or re-render the document with a v0 renderer.")]
    [Arguments("""{"version": "0"}""", "x.json: the document has neither \"graph\" nor \"steps\"; a v0 IR document holds its steps in one of them.")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "cmd": "x"}}], "edges": [[0, 3, "builds_in"]]}}""", "x.json: graph.edges[0][1] is 3, but there are 1 nodes; refer to nodes by their position in graph.nodes, from 0.")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "cmd": "x"}}, {"step": {"key": "b", "cmd": "y"}}], "edges": [[0, 1, "inherits"]]}}""", "x.json: graph.edges[0][2] is \"inherits\"; name the edge kind: \"builds_in\" or \"depends_on\".")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "cmd": "x"}}, {"step": {"key": "b", "cmd": "y"}}, {"step": {"key": "c", "cmd": "z"}}], "edges": [[0, 2, "builds_in"], [1, 2, "builds_in"]]}}""", "x.json: graph.edges[1] gives step 'c' a second builds_in parent ('b' after 'a'); a step builds in one parent; make the other edge \"depends_on\".")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "cmd": "x"}}], "node_holes": [3], "edges": []}}""", "x.json: graph.node_holes is not empty; re-render the graph without removed nodes, so node indices are dense.")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "eval": {"type": "dynamic", "target_name": "t"}}}]}}""", "x.json: graph.nodes[0].step.eval.type is \"dynamic\"; only \"cmd\" steps can run here; render the pipeline's dynamic targets to commands first.")]
    public async Task Malformed_document_names_the_field_and_the_fix(string json, string message)
    {
        var error = (await Assert.That(() => IrDocument.Parse(json, "x.json", new IrReadOptions(_root))).ThrowsExactly<PipelineException>())!;
        await Assert.That(error.Message).IsEqualTo(message);
    }

    [Test]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", "builds_in": "nope"}]}""", "depends on 'nope'")]
    [Arguments("""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x"}, {"type": "command", "key": "a", "cmd": "y"}]}""", "two steps have the key 'a'")]
    [Arguments("""{"version": "0", "graph": {"nodes": [{"step": {"key": "a", "cmd": "x"}}, {"step": {"key": "b", "cmd": "y"}}], "edges": [[0, 1, "builds_in"], [1, 0, "depends_on"]]}}""", "cycle")]
    [Arguments("""{"version": "0", "steps": [ {"type": "command" """, "not valid JSON (line 1")]
    [Arguments("""[1, 2]""", "must be a JSON object")]
    public async Task Graph_mistakes_and_broken_json_are_pipeline_errors_naming_the_document(string json, string expected)
    {
        var error = (await Assert.That(() => IrDocument.Parse(json, "x.json", new IrReadOptions(_root))).ThrowsExactly<PipelineException>())!;
        await Assert.That(error.Message).StartsWith("x.json: ", StringComparison.Ordinal);
        await Assert.That(error.Message).Contains(expected, StringComparison.Ordinal);
    }

    private static string CreateRoot()
    {
        var root = Directory.CreateTempSubdirectory("harmont-ir-").FullName;
        File.WriteAllText(Path.Combine(root, "a.txt"), "a");
        return root;
    }
}
