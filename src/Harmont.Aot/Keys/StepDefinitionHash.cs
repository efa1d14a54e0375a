using Harmont.Aot.Model;

namespace Harmont.Aot.Keys;

/// <summary>Computes a step's <c>definition</c> (docs/cache-keys.md) hash at run time; the canonical form is <see cref="DefinitionPreimage"/>'s.</summary>
internal static class StepDefinitionHash
{
    /// <summary>The generator's constant when it could fold the command, otherwise <see cref="Compute(PipelineDefinition, StepDefinition)"/>.</summary>
    public static string Get(PipelineDefinition pipeline, StepDefinition step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.DefinitionHash ?? Compute(pipeline, step);
    }

    /// <summary>Hashes the step as it is now, calling <see cref="StepDefinition.Command"/> when the command is not a constant.</summary>
    public static string Compute(PipelineDefinition pipeline, StepDefinition step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return Compute(pipeline, step, step.ConstantCommand ?? step.Command());
    }

    /// <summary>Hashes the step with <paramref name="command"/> as its command text, already evaluated by the caller.</summary>
    internal static string Compute(PipelineDefinition pipeline, StepDefinition step, string command)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(step);
        var image = step.From is null ? step.Image ?? pipeline.DefaultImage : null;
        var runner = step.Runner == Runner.Inherit ? pipeline.Runner : step.Runner;
        return DefinitionPreimage.Hash(
            command,
            image,
            step.Env,
            step.Secrets,
            step.Cwd,
            RunnerName(runner),
            NetworkName(step.Network));
    }

    /// <summary>The network as it appears in the preimage: null for the default (no field), else the member name in lower case or the number.</summary>
    internal static string? NetworkName(Network network) => network switch
    {
        Network.Default => null,
        Network.Bridge => "bridge",
        Network.None => "none",
        Network.Host => "host",
        _ => ((int)network).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The runner as it appears in the preimage: the member name in lower case, or the number for an undefined value.</summary>
    internal static string RunnerName(Runner runner) => runner switch
    {
        Runner.Inherit => "inherit",
        Runner.Auto => "auto",
        Runner.Docker => "docker",
        Runner.Host => "host",
        _ => ((int)runner).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
