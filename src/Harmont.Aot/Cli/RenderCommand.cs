using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary><c>render [pipeline]</c>: prints a pipeline as Harmont v0 IR JSON (graph form).</summary>
internal static class RenderCommand
{
    public static int Execute(IReadOnlyList<PipelineDefinition> pipelines, string? slug, CliContext context)
    {
        context.Out.Write(IrWriter.Render(RunCommand.Select(pipelines, slug)));
        return ExitCodes.Passed;
    }
}
