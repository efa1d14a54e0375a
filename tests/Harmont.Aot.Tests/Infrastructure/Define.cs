using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>Hand-built definitions, for settings the test needs to vary freely (timeouts, shapes).</summary>
public static class Define
{
    public static StepDefinition Step(string key, string command, string? from = null, TimeSpan? timeout = null, params string[] after) => new()
    {
        Key = key,
        Label = key,
        Command = () => command,
        ConstantCommand = command,
        From = from,
        After = after,
        Timeout = timeout,
    };

    public static PipelineDefinition Pipeline(string slug, Runner runner, params StepDefinition[] steps) => new()
    {
        Slug = slug,
        Runner = runner,
        DefaultImage = BusyboxImage.Image,
        Steps = steps,
    };
}
