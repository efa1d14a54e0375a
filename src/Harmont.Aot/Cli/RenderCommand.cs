using System.CommandLine;
using Harmont.Aot.Ir;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary><c>render [pipeline]</c>: prints a pipeline as Harmont v0 IR JSON (graph form).</summary>
internal static class RenderCommand
{
    public static Command Create(IReadOnlyList<PipelineDefinition> pipelines, CliContext context)
    {
        var pipelineArgument = PipelineArgument.Create();
        var command = new Command("render", "Print a pipeline as Harmont v0 IR JSON.") { pipelineArgument };
        command.SetAction(parse => PipelineArgument.Invoke(
            pipelines, parse.GetValue(pipelineArgument), context, pipeline => context.Out.Write(IrWriter.Render(pipeline))));
        return command;
    }
}

/// <summary>The optional <c>[pipeline]</c> argument of the verbs that show one pipeline, and their error handling.</summary>
internal static class PipelineArgument
{
    public static Argument<string?> Create() => new("pipeline")
    {
        Description = "Slug of the pipeline; may be left out when the program defines one.",
        Arity = ArgumentArity.ZeroOrOne,
    };

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
