using System.Reflection;
using ConsoleAppFramework;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary>The command line of a pipeline program: <c>return await HarmontCli.RunAsync(args, PipelineCatalog.All);</c></summary>
public static class HarmontCli
{
    private const string Description = "Harmont.Aot: runs the C# pipelines in this program, each step in its own container or process.";

    private static readonly string[] CacheVerbs = ["ls", "prune", "clean", "export", "import", "push"];

    // The parser reads no word at all after a verb without parameters, so it would take any.
    private static readonly string[] TakeNothing = ["list", "cache ls", "cache clean"];

    /// <summary>Parses <paramref name="args"/> and runs the verb; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, IReadOnlyList<PipelineDefinition> pipelines) =>
        RunAsync(args, pipelines, CliContext.FromProcess());

    internal static async Task<int> RunAsync(string[] args, IReadOnlyList<PipelineDefinition> pipelines, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        string[] words;
        try
        {
            words = CommandLineForms.Normalise(args, path => ReadResponseFile(path, context.WorkingDirectory));
        }
        catch (PipelineException ex)
        {
            return await UsageAsync(context, $"{ex.Message} (see --help)");
        }

        var verbs = new HarmontVerbs(pipelines, context);
        var app = Create(verbs);
        if (words[0] == "cache" && (words.Length == 1 || !CacheVerbs.Contains(words[1])))
        {
            return await CacheWithoutVerbAsync(app, words, context);
        }

        var depth = words[0] == "cache" ? 2 : 1;
        var verb = string.Join(' ', words[..depth]);
        if (TakeNothing.Contains(verb) && words.Skip(depth).FirstOrDefault(w => w is not ("-h" or "--help")) is { } extra)
        {
            return await UsageAsync(context, $"unexpected argument '{extra}' (see '{verb} --help')");
        }

        if (words.Contains("--version"))
        {
            ConsoleApp.Version = typeof(HarmontCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        }

        var parsed = await ParserOutput.CaptureAsync(() => app.RunAsync(words, disposeServiceProvider: false));
        if (verbs.ExitCode is { } exitCode)
        {
            return exitCode;
        }

        if (verbs.Started)
        {
            // Not the user's input but a bug, whose whole story is what helps; 1, as an unhandled exception has always given.
            await context.Error.WriteLineAsync($"harmont: internal error in {verb}: {string.Join('\n', parsed.Errors)}");
            return 1;
        }

        if (parsed.Errors.Count > 0)
        {
            return await UsageAsync(context, UsageErrors.Describe(verb, parsed.Errors[0]));
        }

        if (!AsksForHelp(words))
        {
            // The parser answers a verb missing its required argument with the verb's help and success.
            return await UsageAsync(context, UsageErrors.Missing(verb));
        }

        await context.Out.WriteAsync((words[0] is "--help" or "-h" ? Description + "\n\n" : "") + parsed.Text);
        return ExitCodes.Passed;
    }

    // The verbs, as the parser's generator reads them: each method's XML docs are its help.
    private static ConsoleApp.ConsoleAppBuilder Create(HarmontVerbs verbs)
    {
        var app = ConsoleApp.Create();
        app.Add("run", verbs.Run);
        app.Add("list", verbs.List);
        app.Add("render", verbs.Render);
        app.Add("graph", verbs.Graph);
        app.Add("explain", verbs.Explain);
        app.Add("doctor", verbs.Doctor);
        app.Add("stats", verbs.Stats);
        app.Add("tune", verbs.Tune);
        app.Add("cache ls", verbs.CacheList);
        app.Add("cache prune", verbs.CachePrune);
        app.Add("cache clean", verbs.CacheClean);
        app.Add("cache export", verbs.CacheExport);
        app.Add("cache import", verbs.CacheImport);
        app.Add("cache push", verbs.CachePush);
        return app;
    }

    // The parser answers 'cache' and 'cache --help' with the root help; these are the cache verbs' own.
    private static async Task<int> CacheWithoutVerbAsync(ConsoleApp.ConsoleAppBuilder app, string[] words, CliContext context)
    {
        if (words.Length == 1)
        {
            return await UsageAsync(context, $"cache needs a verb: {string.Join(", ", CacheVerbs)} (see 'cache --help')");
        }

        if (words[1] is not ("--help" or "-h"))
        {
            return await UsageAsync(context, $"cache has no verb '{words[1]}'; it has {string.Join(", ", CacheVerbs)} (see 'cache --help')");
        }

        var root = await ParserOutput.CaptureAsync(() => app.RunAsync(["--help"], disposeServiceProvider: false));
        var verbs = root.Text.ToString().Split('\n').Where(l => l.StartsWith("  cache ", StringComparison.Ordinal));
        await context.Out.WriteAsync(
            $"Usage: cache [command] [-h|--help]\n\nInspect and manage the step cache.\n\nCommands:\n{string.Join('\n', verbs)}\n");
        return ExitCodes.Passed;
    }

    private static bool AsksForHelp(string[] words) =>
        words.TakeWhile(w => w != "--").Any(w => w is "-h" or "--help" or "--version");

    private static Task<int> UsageAsync(CliContext context, string message) =>
        CliFailures.ReportAsync(CliFailures.Usage(message), context.Error);

    private static string[]? ReadResponseFile(string path, string workingDirectory)
    {
        var full = Path.GetFullPath(path, workingDirectory);
        return File.Exists(full) ? File.ReadAllLines(full) : null;
    }
}
