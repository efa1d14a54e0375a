using System.Text.Json;
using Harmont.Aot.Model;

namespace Harmont.Aot.Ir;

/// <summary>Reads the fields of one command step, common to both IR forms.</summary>
/// <remarks>
/// A <c>cache.key</c> is read and set aside: it was computed when the document was rendered, from that
/// moment's files and clock and another project's identity, so the runner derives every key itself.
/// </remarks>
internal static class IrStep
{
    /// <summary>The step fields both forms share; the steps-list form adds <c>type</c> and <c>builds_in</c>.</summary>
    public static readonly string[] Fields =
        ["key", "label", "cmd", "eval", "image", "env", "secrets", "cwd", "timeout_seconds", "cache", "runner", "runner_args", "incremental", "cache_mounts", "network"];

    private const string PolicyFix = "use \"none\", \"forever\", \"ttl\", \"on_change\" or \"compose\"";
    private const int LongestKey = 200;

    /// <param name="step">The step object; its fields were checked by the caller's form.</param>
    /// <param name="from">The key of the step's lineage parent, as the caller's form gives it; null for a root.</param>
    /// <param name="after">The keys of the steps it waits for, as the caller's form gives them.</param>
    /// <param name="header">The pipeline's fields: its env lies under the step's own, and its source root resolves on_change paths.</param>
    /// <param name="mergedEnv">The graph form's node env, already merged; null when absent.</param>
    public static StepDefinition Read(
        IrField step, string? from, IReadOnlyList<string> after, IrHeader header, List<KeyValuePair<string, string>>? mergedEnv)
    {
        var key = ReadKey(step.Property("key"));
        var command = ReadCommand(step);
        var ownEnv = step.Property("env").OptionalStringMap("write env as an object of string values, e.g. {\"CC\": \"gcc\"}");
        var cache = ReadCache(step.Property("cache"), key, header.SourceRoot);

        var runnerArgs = step.Property("runner_args");
        if (!runnerArgs.IsMissing && !(runnerArgs.Value.ValueKind == JsonValueKind.Object && !runnerArgs.Value.EnumerateObject().Any()))
        {
            throw runnerArgs.Error("is set, but the docker and host runners take no arguments", "remove \"runner_args\"");
        }

        var cwd = step.Property("cwd");
        var directory = cwd.OptionalString("give a directory relative to the workspace root, such as \"src/app\", or remove the field");
        if (directory is not null && SettingSyntax.CheckCwd(directory) is { } cwdProblem)
        {
            throw cwd.Error($"\"{IrField.Printable(directory)}\" {cwdProblem}", "give a directory relative to the workspace root, such as \"src/app\"");
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
            Env = mergedEnv ?? Merge(header.Env, ownEnv),
            Secrets = ReadSecrets(step.Property("secrets")),
            Cwd = directory,
            Runner = ReadRunner(step.Property("runner")) ?? Runner.Inherit,
            Network = ReadNetwork(step.Property("network")),
            Timeout = step.Property("timeout_seconds").OptionalSeconds("give a positive number of seconds, or remove the field", IrField.LongestTimeoutSeconds),
            Cache = cache,
            Incremental = step.Property("incremental").OptionalBool("write \"incremental\": true, or remove the field"),
            CacheMounts = ReadCacheMounts(step.Property("cache_mounts"), key),
        };
    }

    // Our extension, not harmont-py's: [{"path": "/root/.cache/ccache", "id": "ccache"}], id optional.
    private static List<CacheMount> ReadCacheMounts(IrField field, string stepKey)
    {
        var mounts = new List<CacheMount>();
        if (field.IsMissing)
        {
            return mounts;
        }

        const string Fix = "write cache_mounts as [{\"path\": \"/root/.cache/ccache\", \"id\": \"ccache\"}]";
        foreach (var item in field.Array(Fix))
        {
            item.RequireObject(Fix);
            item.RequireOnly("a cache mount", "path", "id");
            var mount = new CacheMount(item.Property("path").RequiredString(Fix), item.Property("id").OptionalString(Fix));
            if (mount.Problem(stepKey) is { } problem)
            {
                throw item.Error($"is not usable: {problem}", Fix);
            }

            mounts.Add(mount);
        }

        return mounts;
    }

    /// <summary>A step key: printable, and short enough to name the step's files and containers.</summary>
    public static string ReadKey(IrField field, string fix = "give every step a unique \"key\"")
    {
        var key = field.RequiredString(fix);
        if (key.Any(char.IsControl))
        {
            throw field.Error($"is \"{IrField.Printable(key)}\", which has a control character", "give every step a unique key of printable characters");
        }

        return key.Length <= LongestKey
            ? key
            : throw field.Error($"is {key.Length} characters long", $"keep step keys to {LongestKey} characters");
    }

    /// <summary><c>runner</c>: <c>auto</c>, <c>docker</c> or <c>host</c>; null when absent.</summary>
    public static Runner? ReadRunner(IrField field) =>
        field.OptionalString("use \"auto\", \"docker\" or \"host\", or remove the field") switch
        {
            null => null,
            "auto" => Runner.Auto,
            "docker" => Runner.Docker,
            "host" => Runner.Host,
            var other => throw field.Error($"is \"{IrField.Printable(other)}\", which is not a backend of this runner", "use \"auto\", \"docker\" or \"host\", or remove the field"),
        };

    /// <summary><c>network</c>: <c>bridge</c>, <c>none</c> or <c>host</c>; the engine's default when absent.</summary>
    public static Network ReadNetwork(IrField field) =>
        field.OptionalString("use \"bridge\", \"none\" or \"host\", or remove the field") switch
        {
            null => Network.Default,
            "bridge" => Network.Bridge,
            "none" => Network.None,
            "host" => Network.Host,
            var other => throw field.Error($"is \"{IrField.Printable(other)}\", which is not a network mode", "use \"bridge\", \"none\" or \"host\", or remove the field"),
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
            eval.RequireObject("set \"eval\": {\"type\": \"cmd\", \"cmd\": \"...\"}");
            var type = eval.Property("type").RequiredString("set \"eval\": {\"type\": \"cmd\", \"cmd\": \"...\"}");
            if (type != "cmd")
            {
                throw eval.Property("type").Error($"is \"{IrField.Printable(type)}\"; only \"cmd\" steps can run here", "render the pipeline's dynamic targets to commands first");
            }

            eval.RequireOnly("an eval", "type", "cmd");
            return eval.Property("cmd").RequiredString("give the shell command to run");
        }

        if (!eval.IsMissing)
        {
            throw eval.Error("is set beside \"cmd\"", "keep one of them");
        }

        return cmd.String("give the shell command to run, e.g. \"cmd\": \"make test\"");
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
                    $"maps to the secret \"{IrField.Printable(secret)}\", but this runner reads a secret from its environment variable of the same name",
                    $"write \"{name}\": \"{name}\" and export {name} where the runner starts");
            }

            names.Add(name);
        }

        return names;
    }

    private static List<CachePolicy> ReadCache(IrField cache, string stepKey, string sourceRoot)
    {
        var policies = new List<CachePolicy>();
        if (!cache.IsMissing)
        {
            ReadPolicy(cache, stepKey, sourceRoot, policies);
        }

        return policies;
    }

    private static void ReadPolicy(IrField cache, string stepKey, string sourceRoot, List<CachePolicy> into)
    {
        cache.RequireObject("write each policy as an object such as {\"policy\": \"forever\"}");
        var policy = cache.Property("policy");
        var envKeysFix = "list environment variable names, e.g. [\"NODE_VERSION\"], or remove the field";
        var kind = policy.RequiredString(PolicyFix);
        string[] fields = kind switch
        {
            "none" => ["policy", "key"],
            "forever" => ["policy", "key", "env_keys"],
            "ttl" => ["policy", "key", "duration_seconds", "env_keys"],
            "on_change" => ["policy", "key", "paths"],
            "compose" => ["policy", "key", "sub_policies"],
            _ => throw policy.Error($"is \"{IrField.Printable(kind)}\", which is not a cache policy", PolicyFix),
        };
        cache.RequireOnly($"a \"{kind}\" cache policy", fields);

        // Never a key: only checked to be what a renderer writes.
        var given = cache.Property("key");
        if (!given.IsMissing)
        {
            given.String("give the rendered key as a string, or remove it; the runner derives its own");
        }

        switch (kind)
        {
            case "forever":
                into.Add(new ForeverCachePolicy(cache.Property("env_keys").OptionalVariableNames(envKeysFix)));
                break;
            case "ttl":
                var duration = cache.Property("duration_seconds");
                into.Add(new TtlCachePolicy(
                    duration.OptionalSeconds("give the bucket length as a positive number of seconds, e.g. 86400")
                        ?? throw duration.Error("is missing", "a ttl policy needs \"duration_seconds\", e.g. 86400 for a day"),
                    cache.Property("env_keys").OptionalVariableNames(envKeysFix)));
                break;
            case "on_change":
                var paths = cache.Property("paths").Array("list the files or directories to watch, e.g. [\"src\", \"Makefile\"]");
                into.Add(paths.Count > 0
                    ? new OnChangeCachePolicy([.. paths.Select(p => OnChangePaths.ToGlob(p, stepKey, sourceRoot)).Distinct(StringComparer.Ordinal)])
                    : throw cache.Property("paths").Error("is empty", "list at least one file or directory to watch"));
                break;
            case "compose":
                var parts = cache.Property("sub_policies").Array("list the composed policies, e.g. [{\"policy\": \"forever\"}]");
                if (parts.Count == 0)
                {
                    throw cache.Property("sub_policies").Error("is empty", "list the policies that must all hit, or use one policy alone");
                }

                foreach (var part in parts)
                {
                    ReadPolicy(part, stepKey, sourceRoot, into);
                }

                break;
        }
    }
}
