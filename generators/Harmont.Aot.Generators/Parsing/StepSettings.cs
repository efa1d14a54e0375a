using System.Collections.Generic;
using System.Linq;
using Harmont.Aot.Generators.Model;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>A step's effective env and secrets (the pipeline's, overlaid with its own) and the checks between them (HM0012).</summary>
internal sealed record StepSettings(EquatableArray<EnvSpec> Env, EquatableArray<string> Secrets)
{
    public static StepSettings Resolve(StepDraft draft, IReadOnlyList<EnvDraft> pipelineEnv, IReadOnlyList<Site> pipelineSecrets, List<DiagnosticInfo> diagnostics)
    {
        // A later entry replaces an earlier one of the same name, in the place the name first appeared.
        var env = new List<EnvSpec>();
        foreach (var entry in pipelineEnv.Concat(draft.Env).Select(e => e.Entry))
        {
            var index = env.FindIndex(e => e.Name == entry.Name);
            if (index >= 0)
            {
                env[index] = entry;
            }
            else
            {
                env.Add(entry);
            }
        }

        var secrets = pipelineSecrets.Concat(draft.Secrets).Select(s => s.Name).Distinct().ToList();

        foreach (var key in draft.CacheEnvKeys.Where(k => secrets.Contains(k.Name)))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.SecretAlsoInEnv, key.Location, key.Name, $"step '{draft.MethodName}'",
                "a cache env key, which would put its value into the cache key; remove it from the env keys"));
        }

        // The step's own [Env] against any secret, and the pipeline's [Env] against the step's own secrets;
        // the pipeline's [Env] against the pipeline's secrets is reported once, by CheckPipelineLevel.
        foreach (var entry in draft.Env.Where(e => secrets.Contains(e.Entry.Name)))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.SecretAlsoInEnv, entry.Location, entry.Entry.Name, $"step '{draft.MethodName}'", SetByEnv));
        }

        foreach (var secret in draft.Secrets.Where(s => pipelineEnv.Any(e => e.Entry.Name == s.Name)))
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.SecretAlsoInEnv, secret.Location, secret.Name, $"step '{draft.MethodName}'", "set by the pipeline's [Env]" + SetByEnvFix));
        }

        return new StepSettings(env.ToEquatableArray(), secrets.ToEquatableArray());
    }

    public static void CheckPipelineLevel(IReadOnlyList<EnvDraft> pipelineEnv, IReadOnlyList<Site> pipelineSecrets, string className, List<DiagnosticInfo> diagnostics)
    {
        foreach (var entry in pipelineEnv.Where(e => pipelineSecrets.Any(s => s.Name == e.Entry.Name)))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SecretAlsoInEnv, entry.Location, entry.Entry.Name, $"pipeline class '{className}'", SetByEnv));
        }
    }

    /// <summary>The definition (docs/cache-keys.md) hash, when the command is a constant; the same canonical form the runtime uses.</summary>
    public static string? DefinitionHash(StepDraft draft, StepSettings settings, string? defaultImage, RunnerSpec pipelineRunner)
    {
        if (draft.ConstantCommand is not { } command)
        {
            return null;
        }

        var runner = draft.Runner.Value == 0 ? pipelineRunner : draft.Runner;
        return DefinitionPreimage.Hash(
            command,
            draft.From is null ? draft.Image ?? defaultImage : null,
            settings.Env.Select(e => new KeyValuePair<string, string>(e.Name, e.Value)),
            settings.Secrets,
            draft.Cwd,
            EnumName(runner),
            draft.Network.Value == 0 ? null : EnumName(draft.Network));
    }

    // As the runtime's StepDefinitionHash names it: the member in lower case, or the number of an undefined value.
    private static string EnumName(RunnerSpec value) =>
        value.Member?.ToLowerInvariant() ?? value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private const string SetByEnvFix = ", which would show its value in the clear; remove one of the two";

    private const string SetByEnv = "set by [Env]" + SetByEnvFix;
}
