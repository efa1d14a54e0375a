using System.Text.Json;
using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>
/// The graph form: <c>graph.nodes</c> (each <c>{"step": {...}, "env": {...}}</c>) and <c>graph.edges</c>
/// (each <c>[from, to, "builds_in" | "depends_on"]</c>, node indices).
/// </summary>
internal static class GraphForm
{
    public static PipelineDefinition Read(IrField graph, IrHeader header)
    {
        graph.RequireObject("write graph as {\"nodes\": [...], \"edges\": [...]}");
        graph.RequireOnly("a graph", "nodes", "edges", "node_holes", "edge_property");
        var direction = graph.Property("edge_property");
        if (direction.OptionalString("write \"directed\", or remove the field") is { } kind && kind != "directed")
        {
            throw direction.Error($"is \"{IrField.Printable(kind)}\"", "a pipeline's edges point from parent to child: write \"directed\"");
        }

        var holes = graph.Property("node_holes");
        if (!holes.IsMissing && holes.Array("remove the field").Count > 0)
        {
            throw holes.Error("is not empty", "re-render the graph without removed nodes, so node indices are dense");
        }

        var nodes = graph.Property("nodes").Array("list the steps as \"nodes\": [{\"step\": {\"key\": ..., \"cmd\": ...}}]");
        var parents = new string?[nodes.Count];
        var after = nodes.Select(_ => new List<string>()).ToArray();
        foreach (var node in nodes)
        {
            node.RequireObject("write each node as {\"step\": {...}, \"env\": {...}}");
            node.RequireOnly("a graph node", "step", "env");
            node.Property("step").RequireObject("write the node's step as {\"key\": ..., \"cmd\": ...}");
            node.Property("step").RequireOnly("a command step", IrStep.Fields);
        }

        var keys = nodes.Select(n => IrStep.ReadKey(n.Property("step").Property("key"))).ToArray();

        var edges = graph.Property("edges");
        foreach (var edge in edges.IsMissing ? [] : edges.Array("list edges as [from, to, \"builds_in\"]"))
        {
            var parts = edge.Array("write each edge as [from, to, \"builds_in\" | \"depends_on\"]");
            if (parts.Count != 3)
            {
                throw edge.Error($"has {parts.Count} elements", "write each edge as [from, to, \"builds_in\" | \"depends_on\"]");
            }

            var from = NodeIndex(parts[0], nodes.Count);
            var to = NodeIndex(parts[1], nodes.Count);
            switch (parts[2].RequiredString("name the edge kind: \"builds_in\" or \"depends_on\""))
            {
                case "builds_in":
                    if (parents[to] is { } existing)
                    {
                        throw edge.Error(
                            $"gives step '{keys[to]}' a second builds_in parent ('{keys[from]}' after '{existing}')",
                            "a step builds in one parent; make the other edge \"depends_on\"");
                    }

                    parents[to] = keys[from];
                    break;
                case "depends_on":
                    if (!after[to].Contains(keys[from], StringComparer.Ordinal))
                    {
                        after[to].Add(keys[from]);
                    }

                    break;
                case var other:
                    throw parts[2].Error($"is \"{IrField.Printable(other)}\"", "name the edge kind: \"builds_in\" or \"depends_on\"");
            }
        }

        var steps = new List<StepDefinition>(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            var env = nodes[i].Property("env");
            var merged = env.IsMissing ? null : env.OptionalStringMap("write the node env as an object of string values");
            steps.Add(IrStep.Read(nodes[i].Property("step"), parents[i], after[i], header, merged));
        }

        return header.Pipeline(steps);
    }

    private static int NodeIndex(IrField field, int count)
    {
        if (field.Value.ValueKind != JsonValueKind.Number || !field.Value.TryGetInt32(out var index))
        {
            throw field.Error($"must be a node index, not {field.Describe()}", "refer to nodes by their position in graph.nodes, from 0");
        }

        return index >= 0 && index < count
            ? index
            : throw field.Error($"is {index}, but there are {count} nodes", "refer to nodes by their position in graph.nodes, from 0");
    }
}
