using System.Text.Json;
using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>Reads the fields of one command step, common to both IR forms.</summary>
internal static class IrStep
{
    private const string PolicyFix = "use \"none\", \"forever\", \"ttl\", \"on_change\" or \"compose\"";

    /// <param name="step">The step object.</param>
    /// <param name="baseEnv">Env under the step's own (the pipeline's), or null when <paramref name="mergedEnv"/> is given.</param>
    /// <param name="mergedEnv">The graph form's node env, already merged; null when absent.</param>
    public static StepDefinition Read(
        IrField step, string? from, IReadOnlyList<string> after,
        IReadOnlyList<KeyValuePair<string, string>> baseEnv, List<KeyValuePair<string, string>>? mergedEnv)
    {
        step.RequireObject("write each step as an object with at least \"key\" and \"cmd\"");
        var key = step.Property("key").RequiredString("give every step a unique \"key\"");
        var command = ReadCommand(step);
        var ownEnv = step.Property("env").OptionalStringMap("write env as an object of string values, e.g. {\"CC\": \"gcc\"}");
        var (cache, cacheKey) = ReadCache(step.Property("cache"));

        var runnerArgs = step.Property("runner_args");
        if (!runnerArgs.IsMissing && !(runnerArgs.Value.ValueKind == JsonValueKind.Object && !runnerArgs.Value.EnumerateObject().Any()))
        {
            throw runnerArgs.Error("is set, but the docker and host runners take no arguments", "remove \"runner_args\"");
        }

        return new StepDefinition
        {
            Key = key,
            Label = step.Property("label").OptionalString("give the label as a non-empty string, or remove it") ?? key,
            Command = () => command,
            ConstantCommand = command,
            From = from,
            After = after,
            Image = step.Property("image").OptionalString("name an image such as \"alpine:3.20\", or remove the field"),
            Env = mergedEnv ?? Merge(baseEnv, ownEnv),
            Secrets = ReadSecrets(step.Property("secrets")),
            Runner = ReadRunner(step.Property("runner")) ?? Runner.Inherit,
            Timeout = step.Property("timeout_seconds").OptionalSeconds("give a positive number of seconds, or remove the field"),
            Cache = cache,
            CacheKey = cacheKey,
        };
    }

    /// <summary><c>runner</c>: <c>auto</c>, <c>docker</c> or <c>host</c>; null when absent.</summary>
    public static Runner? ReadRunner(IrField field) =>
        field.OptionalString("use \"auto\", \"docker\" or \"host\", or remove the field") switch
        {
            null => null,
            "auto" => Runner.Auto,
            "docker" => Runner.Docker,
            "host" => Runner.Host,
            var other => throw field.Error($"is \"{other}\", which is not a backend of this runner", "use \"auto\", \"docker\" or \"host\", or remove the field"),
        };

    /// <summary>Later entries replace earlier ones of the same name, in the place the name first appeared.</summary>
    public static List<KeyValuePair<string, string>> Merge(IEnumerable<KeyValuePair<string, string>> under, IEnumerable<KeyValuePair<string, string>> over)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var entry in under.Concat(over))
        {
            var index = result.FindIndex(e => e.Key == entry.Key);
            if (index >= 0)
            {
                result[index] = entry;
            }
            else
            {
                result.Add(entry);
            }
        }

        return result;
    }

    private static string ReadCommand(IrField step)
    {
        var cmd = step.Property("cmd");
        var eval = step.Property("eval");
        if (cmd.IsMissing && !eval.IsMissing)
        {
            var type = eval.Property("type").RequiredString("set \"eval\": {\"type\": \"cmd\", \"cmd\": \"...\"}");
            return type == "cmd"
                ? eval.Property("cmd").RequiredString("give the shell command to run")
                : throw eval.Property("type").Error($"is \"{type}\"; only \"cmd\" steps can run here", "render the pipeline's dynamic targets to commands first");
        }

        return cmd.Value.ValueKind == JsonValueKind.String
            ? cmd.Value.GetString()!
            : throw cmd.Error(cmd.IsMissing ? "is missing" : $"must be a string, not {cmd.Describe()}", "give the shell command to run, e.g. \"cmd\": \"make test\"");
    }

    /// <summary>IR secrets map an env name to a secret name; this runner reads each secret from its own environment by the same name.</summary>
    private static List<string> ReadSecrets(IrField field)
    {
        var names = new List<string>();
        foreach (var (name, secret) in field.OptionalStringMap("write secrets as {\"ENV_NAME\": \"ENV_NAME\"}"))
        {
            if (name != secret)
            {
                throw field.Property(name).Error(
                    $"maps to the secret \"{secret}\", but this runner reads a secret from its environment variable of the same name",
                    $"write \"{name}\": \"{name}\" and export {name} where the runner starts");
            }

            names.Add(name);
        }

        return names;
    }

    private static (List<CachePolicy> Policies, string? Key) ReadCache(IrField cache)
    {
        if (cache.IsMissing)
        {
            return ([], null);
        }

        cache.RequireObject("write cache as an object such as {\"policy\": \"forever\"}");
        var policies = new List<CachePolicy>();
        ReadPolicy(cache, policies);
        var key = cache.Property("key").OptionalString("give the precomputed key as a string, or remove it to let the runner derive one");
        return (policies, key);
    }

    private static void ReadPolicy(IrField cache, List<CachePolicy> into)
    {
        cache.RequireObject("write each policy as an object such as {\"policy\": \"forever\"}");
        var policy = cache.Property("policy");
        var envKeysFix = "list environment variable names, e.g. [\"NODE_VERSION\"], or remove the field";
        switch (policy.RequiredString(PolicyFix))
        {
            case "none":
                break;
            case "forever":
                into.Add(new ForeverCachePolicy(cache.Property("env_keys").OptionalStrings(envKeysFix)));
                break;
            case "ttl":
                var duration = cache.Property("duration_seconds");
                into.Add(new TtlCachePolicy(
                    duration.OptionalSeconds("give the bucket length as a positive number of seconds, e.g. 86400")
                        ?? throw duration.Error("is missing", "a ttl policy needs \"duration_seconds\", e.g. 86400 for a day"),
                    cache.Property("env_keys").OptionalStrings(envKeysFix)));
                break;
            case "on_change":
                var paths = cache.Property("paths");
                var globs = paths.Array("list the files or globs to watch, e.g. [\"src/**\"]").Select(p => p.RequiredString("give each path as a non-empty string")).ToList();
                into.Add(globs.Count > 0 ? new OnChangeCachePolicy(globs) : throw paths.Error("is empty", "list at least one file or glob to watch"));
                break;
            case "compose":
                foreach (var part in cache.Property("sub_policies").Array("list the composed policies, e.g. [{\"policy\": \"forever\"}]"))
                {
                    ReadPolicy(part, into);
                }

                break;
            case var other:
                throw policy.Error($"is \"{other}\", which is not a cache policy", PolicyFix);
        }
    }
}
