using Harmont.Aot.Ir;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cli;

/// <summary>
/// Where <c>run</c> and <c>explain</c> take their pipeline from: one of this program's, or an IR document
/// (<c>--ir FILE</c>) whose name is <c>--pipeline</c>, else its own <c>slug</c>, else <c>default</c>.
/// </summary>
internal static class IrSource
{
    /// <summary>The pipeline named by the argument or <c>--pipeline</c>, which must agree when both are given.</summary>
    public static string? Name(string? argument, string? option) =>
        argument is not null && option is not null && argument != option
            ? throw new PipelineException($"the pipeline is named twice, '{argument}' and --pipeline '{option}'; name it once.")
            : option ?? argument;

    /// <summary>
    /// The IR document at <paramref name="irPath"/> (relative to the working directory) read against the source tree
    /// at <paramref name="sourceRoot"/>, or this program's pipeline named <paramref name="name"/>.
    /// </summary>
    public static PipelineDefinition Choose(IReadOnlyList<PipelineDefinition> pipelines, string? irPath, string? name, string sourceRoot, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (irPath is null)
        {
            return RunCommand.Select(pipelines, name);
        }

        string path;
        try
        {
            path = Path.GetFullPath(irPath, context.WorkingDirectory);
        }
        catch (ArgumentException ex)
        {
            throw new PipelineException($"--ir '{IrField.Printable(irPath)}' is not a file path: {ex.Message}", ex);
        }

        return IrDocument.Load(path, new IrReadOptions(sourceRoot, string.IsNullOrWhiteSpace(name) ? null : name));
    }
}
