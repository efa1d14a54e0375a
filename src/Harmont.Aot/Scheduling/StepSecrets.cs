using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Scheduling;

/// <summary>
/// The values of the secrets a run's steps name, read once from the runner's environment, and the
/// masking that keeps them out of every log line and event.
/// </summary>
internal sealed class StepSecrets
{
    /// <summary>A line of a multi-line secret shorter than this is not masked on its own.</summary>
    public const int ShortestLineMasked = 3;

    private readonly Dictionary<string, string> _values;

    private StepSecrets(Dictionary<string, string> values)
    {
        _values = values;
        Masker = new SecretMasker(values.Values.SelectMany(MasksOf));
    }

    /// <summary>Masks every run secret in a step's output; handed to the backends so they cut long lines where no secret is.</summary>
    public SecretMasker Masker { get; }

    /// <summary>Reads every named secret; a missing one is an error that names it and the steps that need it.</summary>
    public static StepSecrets Resolve(PipelineDefinition pipeline, Func<string, string?> getEnv)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var missing = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var step in pipeline.Steps)
        {
            foreach (var name in step.Secrets)
            {
                if (getEnv(name) is { } value)
                {
                    values[name] = value;
                }
                else
                {
                    (missing.TryGetValue(name, out var steps) ? steps : missing[name] = []).Add(step.Key);
                }
            }
        }

        if (missing.Count > 0)
        {
            var list = string.Join("; ", missing.Select(m => $"{m.Key} (needed by {string.Join(", ", m.Value)})"));
            throw new PipelineException($"secrets not set in the environment: {list}. Export them before the run; their values are passed to the steps and masked in logs.");
        }

        return new StepSecrets(values);
    }

    public static StepSecrets None { get; } = new([]);

    public IReadOnlyList<KeyValuePair<string, string>> For(StepDefinition step) =>
        [.. step.Secrets.Select(name => new KeyValuePair<string, string>(name, _values[name]))];

    public string Redact(string text) => Masker.Redact(text);

    /// <summary>
    /// What is masked of one value. Output is masked line by line, so a multi-line value is masked as its
    /// lines, each on its own (as GitHub Actions does). A line shorter than <see cref="ShortestLineMasked"/>
    /// once trimmed is left out: masking every "}" or "a" in a log would destroy it. A value of one line is
    /// masked whatever its length. A line's trailing CR goes, as the line splitter drops it from output.
    /// </summary>
    internal static IEnumerable<string> MasksOf(string value)
    {
        var lines = value.Split('\n').Select(line => line.EndsWith('\r') ? line[..^1] : line).ToArray();
        if (lines.Count(line => line.Trim().Length > 0) <= 1)
        {
            return lines.Where(line => line.Trim().Length > 0);
        }

        return lines.Select(line => line.Trim()).Where(line => line.Length >= ShortestLineMasked);
    }
}
