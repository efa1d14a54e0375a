using System.Collections.Generic;
using System.Linq;
using Harmont.Aot.Generators.Model;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>
/// Checks one pipeline's step graph (HM0001, HM0002, HM0003, HM0006) and resolves From/After
/// method names to step keys. Runs inside the parse, where locations are still at hand.
/// </summary>
internal static class GraphValidator
{
    /// <returns>Per step, in order: the parent's key and the After keys, for the references that resolve.</returns>
    public static IReadOnlyList<(string? From, List<string> After)> Validate(
        string slug, IReadOnlyList<StepDraft> steps, List<DiagnosticInfo> diagnostics)
    {
        var indexByMethod = new Dictionary<string, int>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (!indexByMethod.ContainsKey(steps[i].MethodName))
            {
                indexByMethod.Add(steps[i].MethodName, i);
            }
        }

        CheckDuplicateKeys(slug, steps, diagnostics);

        var edges = new List<Edge>[steps.Count];
        var resolved = new List<(string? From, List<string> After)>(steps.Count);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            edges[i] = [];
            string? fromKey = null;
            if (step.From is { } from)
            {
                if (from.MethodName == step.MethodName)
                {
                    // Reported on its own; kept out of the edges so it is not reported again as a cycle.
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StepFromItself, from.Location, step.MethodName));
                }
                else if (Resolve(from, slug, indexByMethod, diagnostics) is { } parent)
                {
                    edges[i].Add(new Edge(parent, from.Location));
                    fromKey = steps[parent].Key;
                }
            }

            var afterKeys = new List<string>(step.After.Count);
            foreach (var reference in step.After)
            {
                if (Resolve(reference, slug, indexByMethod, diagnostics) is { } target)
                {
                    edges[i].Add(new Edge(target, reference.Location));
                    afterKeys.Add(steps[target].Key);
                }
            }

            // A barrier waits for every step above it that it does not already wait for.
            if (step.AfterAll is { } barrier)
            {
                for (var above = 0; above < i; above++)
                {
                    if (steps[above].Key != fromKey && !afterKeys.Contains(steps[above].Key))
                    {
                        edges[i].Add(new Edge(above, barrier.Location));
                        afterKeys.Add(steps[above].Key);
                    }
                }
            }

            resolved.Add((fromKey, afterKeys));
        }

        new CycleFinder(slug, steps, edges, diagnostics).Run();
        return resolved;
    }

    private static int? Resolve(StepReference reference, string slug, Dictionary<string, int> indexByMethod, List<DiagnosticInfo> diagnostics)
    {
        if (reference.MethodName is { } name && indexByMethod.TryGetValue(name, out var index))
        {
            return index;
        }

        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownStep, reference.Location, reference.MethodName ?? "null", slug));
        return null;
    }

    private static void CheckDuplicateKeys(string slug, IReadOnlyList<StepDraft> steps, List<DiagnosticInfo> diagnostics)
    {
        var firstByKey = new Dictionary<string, StepDraft>();
        foreach (var step in steps)
        {
            if (firstByKey.TryGetValue(step.Key, out var first))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.DuplicateStepKey, step.KeyLocation, step.MethodName, step.Key, first.MethodName, slug));
            }
            else
            {
                firstByKey.Add(step.Key, step);
            }
        }
    }

    /// <summary>A dependency of a step on another, and the argument that declared it.</summary>
    private readonly record struct Edge(int Target, LocationInfo? Location);

    /// <summary>Depth-first search that reports each back edge as a cycle, at the argument that closes it.</summary>
    private sealed class CycleFinder(string slug, IReadOnlyList<StepDraft> steps, List<Edge>[] edges, List<DiagnosticInfo> diagnostics)
    {
        private const byte Unvisited = 0;
        private const byte OnPath = 1;
        private const byte Done = 2;

        private readonly byte[] _state = new byte[steps.Count];
        private readonly List<int> _path = [];

        public void Run()
        {
            // Declaration order makes the reported cycles, and where they point, deterministic.
            for (var i = 0; i < steps.Count; i++)
            {
                if (_state[i] == Unvisited)
                {
                    Visit(i);
                }
            }
        }

        private void Visit(int node)
        {
            _state[node] = OnPath;
            _path.Add(node);
            foreach (var edge in edges[node])
            {
                if (_state[edge.Target] == OnPath)
                {
                    var cycle = _path.Skip(_path.IndexOf(edge.Target)).Append(edge.Target).Select(i => steps[i].MethodName);
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StepCycle, edge.Location, slug, string.Join(" → ", cycle)));
                }
                else if (_state[edge.Target] == Unvisited)
                {
                    Visit(edge.Target);
                }
            }

            _path.RemoveAt(_path.Count - 1);
            _state[node] = Done;
        }
    }
}
