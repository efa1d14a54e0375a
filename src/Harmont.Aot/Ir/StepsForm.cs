using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>The steps-list form harmont-py's <c>pipeline_to_json</c> writes: <c>steps</c> of <c>type: command | wait</c>.</summary>
/// <remarks>
/// A <c>wait</c> orders every command after it behind every command before it. Each command after it depends
/// on the commands since the previous wait, which depend on those before that, so the order is transitive; two
/// waits in a row are one.
/// </remarks>
internal static class StepsForm
{
    private static readonly string[] CommandFields = ["type", "builds_in", .. IrStep.Fields];

    public static PipelineDefinition Read(IrField stepsField, IrHeader header)
    {
        var steps = new List<StepDefinition>();
        var sinceBarrier = new List<string>();
        IReadOnlyList<string> barrier = [];
        foreach (var step in stepsField.Array("list the steps as \"steps\": [{\"type\": \"command\", ...}]"))
        {
            step.RequireObject("write each step as an object with \"type\": \"command\" or \"wait\"");
            var type = step.Property("type");
            switch (type.RequiredString("set \"type\" to \"command\" or \"wait\""))
            {
                case "wait":
                    step.RequireOnly("a wait step", "type", "continue_on_failure");
                    if (step.Property("continue_on_failure").OptionalBool("write true or false"))
                    {
                        throw step.Property("continue_on_failure").Error(
                            "is true, which this runner does not support", "remove it, and run with --keep-going to let independent branches finish");
                    }

                    if (sinceBarrier.Count > 0)
                    {
                        barrier = [.. sinceBarrier];
                        sinceBarrier.Clear();
                    }

                    break;
                case "command":
                    step.RequireOnly("a command step", CommandFields);
                    var parent = step.Property("builds_in");
                    var from = parent.IsMissing ? null : IrStep.ReadKey(parent, "name the parent step's key, or write null for a root step");
                    var definition = IrStep.Read(step, from, barrier, header, null);
                    steps.Add(definition);
                    sinceBarrier.Add(definition.Key);
                    break;
                case var other:
                    throw type.Error($"is \"{IrField.Printable(other)}\"", "set \"type\" to \"command\" or \"wait\"");
            }
        }

        return header.Pipeline(steps);
    }
}
