using Harmont.Aot.Cli;

namespace Harmont.Aot.Tests.Ir;

/// <summary><c>graph</c>: a Mermaid flowchart with lineage solid, ordering dotted and cache policies in the labels.</summary>
[NotInParallel(nameof(GraphCommandTests))]
public sealed class GraphCommandTests
{
    [Test]
    public async Task Graph_draws_lineage_solid_ordering_dotted_and_policies_in_labels()
    {
        var (exit, output, _) = IrRenderTests.Invoke([Everything.Definition], "graph");

        await Assert.That(exit).IsEqualTo(0);
        await Assert.That(output).IsEqualTo("""
            %% pipeline everything
            flowchart TD
                s0["deps<br/>cache: forever(ALPINE_MIRROR)"]
                s1["build<br/>cache: on-change(src/**, Makefile) + ttl(7d)"]
                s2["test"]
                s3["lint"]
                s4["integration<br/>cache: ttl(12h, NODE_VERSION)"]
                s5["report"]
                s0 --> s1
                s1 --> s2
                s1 --> s3
                s0 -.-> s5
                s1 -.-> s5
                s2 -.-> s5
                s3 -.-> s5
                s4 -.-> s5

            """);
    }

    [Test]
    public async Task Graph_escapes_quotes_and_angle_brackets_in_labels()
    {
        var pipeline = new Harmont.Aot.Model.PipelineDefinition
        {
            Slug = "odd",
            Steps =
            [
                new() { Key = "a\"b<c>", Label = "x", Command = () => "true", Cache = [new Harmont.Aot.Model.OnChangeCachePolicy(["#x"])] },
            ],
        };

        await Assert.That(GraphCommand.Mermaid(pipeline)).Contains("s0[\"a#quot;b#lt;c#gt;<br/>cache: on-change(#35;x)\"]", StringComparison.Ordinal);
    }

    [Test]
    public async Task Graph_of_an_unknown_pipeline_exits_2()
    {
        var (exit, _, error) = IrRenderTests.Invoke([Everything.Definition, HostChain.Definition], "graph");

        await Assert.That(exit).IsEqualTo(2);
        await Assert.That(error).Contains("name the one to run", StringComparison.Ordinal);
    }
}
