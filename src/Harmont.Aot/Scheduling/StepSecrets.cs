using Harmont.Aot.Model;

namespace Harmont.Aot.Scheduling;

/// <summary>
/// The values of the secrets a run's steps name, read once from the runner's environment, and the
/// masking that keeps them out of every log line and event.
/// </summary>
internal sealed class StepSecrets
{
    private const string Mask = "***";
    private readonly Dictionary<string, string> _values;
    private readonly string[] _byLength;

    private StepSecrets(Dictionary<string, string> values)
    {
        _values = values;

        // Longest first, so a secret that contains another is masked whole.
        _byLength = [.. values.Values.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length)];
    }

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

    public string Redact(string text)
    {
        foreach (var value in _byLength)
        {
            text = text.Replace(value, Mask, StringComparison.Ordinal);
        }

        return text;
    }
}
