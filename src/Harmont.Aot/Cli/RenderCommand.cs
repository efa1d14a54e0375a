using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary><c>render [pipeline]</c>: prints a pipeline as Harmont v0 IR JSON (graph form).</summary>
internal static class RenderCommand
{
    public static int Execute(IReadOnlyList<PipelineDefinition> pipelines, string? slug, CliContext context) =>
        PipelineArgument.Invoke(pipelines, slug, context, pipeline => context.Out.Write(IrWriter.Render(pipeline)));
}

/// <summary>The verbs that show one pipeline: which one, and their error handling.</summary>
internal static class PipelineArgument
{
    /// <returns>0, or 2 with the error on the error writer when the pipeline cannot be chosen or shown.</returns>
    public static int Invoke(IReadOnlyList<PipelineDefinition> pipelines, string? slug, CliContext context, Action<PipelineDefinition> show)
    {
        try
        {
            show(RunCommand.Select(pipelines, slug));
            return 0;
        }
        catch (PipelineException ex)
        {
            context.Error.WriteLine($"harmont: error: {ex.Message}");
            return ExitCodes.Usage;
        }
    }
}
