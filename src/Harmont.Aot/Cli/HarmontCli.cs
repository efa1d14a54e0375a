using System.CommandLine;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary>The command line of a pipeline program: <c>return await HarmontCli.RunAsync(args, PipelineCatalog.All);</c></summary>
public static class HarmontCli
{
    private static readonly string[] Verbs = ["run", "list", "render", "graph", "cache", "explain", "doctor"];

    /// <summary>Parses <paramref name="args"/> and runs the verb; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, IReadOnlyList<PipelineDefinition> pipelines) =>
        RunAsync(args, pipelines, CliContext.FromProcess());

    internal static async Task<int> RunAsync(string[] args, IReadOnlyList<PipelineDefinition> pipelines, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = new RootCommand("Harmont.Aot: runs the C# pipelines in this program, each step in its own container or process.");
        root.Subcommands.Add(RunCommand.Create(pipelines, context));
        root.Subcommands.Add(ListCommand.Create(pipelines, context));
        root.Subcommands.Add(RenderCommand.Create(pipelines, context));
        root.Subcommands.Add(GraphCommand.Create(pipelines, context));
        root.Subcommands.Add(CacheCommand.Create(context));
        root.Subcommands.Add(ExplainCommand.Create(pipelines, context));
        root.Subcommands.Add(DoctorCommand.Create(context));

        var configuration = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,

            // Ctrl-C is handled by the run itself, so it can clean up before exiting.
            ProcessTerminationTimeout = null,
        };
        // A bad argument is a usage error (exit 2) in one line per problem, not the parser's help dump and exit 1.
        var parse = root.Parse(WithDefaultVerb(args));
        if (parse.Errors.Count > 0)
        {
            foreach (var message in parse.Errors.Select(e => OneLine(e.Message)).Distinct(StringComparer.Ordinal))
            {
                await context.Error.WriteLineAsync($"harmont: error: {message} (see --help)");
            }

            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(configuration, context.Cancellation);
    }

    // The parser lists choices one per line; a usage error is one line.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    // `run` is the default verb: `pipeline` alone, or `pipeline ci --parallelism 2`, means `run ...`.
    private static string[] WithDefaultVerb(string[] args) =>
        args.Length > 0 && (Verbs.Contains(args[0]) || args[0] is "-h" or "--help" or "-?" or "--version")
            ? args
            : ["run", .. args];
}
