using System.Text;
using System.Text.RegularExpressions;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Cli;

/// <summary>
/// The parser's complaints in this program's words: one line naming the argument and what to write instead.
/// A message of a shape not known here is passed on as it is, still on one line.
/// </summary>
internal static partial class UsageErrors
{
    /// <summary>The error line for the parser's <paramref name="message"/> about <paramref name="verb"/>.</summary>
    public static string Describe(string verb, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var line = OneLine(message);
        return $"{Reword(line) ?? line} (see '{verb} --help')";
    }

    /// <summary>The line for a verb run without the argument it needs.</summary>
    public static string Missing(string verb) => verb switch
    {
        "cache export" => $"cache export needs the FILE to write, like 'cache export cache{CacheBundleFormat.Extension}'",
        "cache import" => "cache import needs the FILE to read, one 'cache export' wrote",
        _ => $"{verb} is missing an argument",
    } + $" (see '{verb} --help')";

    private static string? Reword(string message)
    {
        if (ParseFailed().Match(message) is { Success: true } failed)
        {
            var (name, value) = (failed.Groups["name"].Value, failed.Groups["value"].Value);
            var option = OptionName(name);
            return IsOptionWord(option, value) ? $"{option} needs a value"
                : name == "parallelism"
                ? $"--parallelism (-j) takes a whole number of steps to run at once, like -j 4, not '{value}'"
                : $"{option} cannot be '{value}'";
        }

        if (ChoiceFailed().Match(message) is { Success: true } choice)
        {
            var (option, value) = (OptionName(choice.Groups["name"].Value), choice.Groups["value"].Value);
            var choices = choice.Groups["choices"].Value.ToLowerInvariant().Split(", ");
            return IsOptionWord(option, value) ? $"{option} needs a value"
                : $"{option} takes {string.Join(", ", choices[..^1])} or {choices[^1]}, not '{value}'";
        }

        if (NotRecognized().Match(message) is { Success: true } unknown)
        {
            var word = unknown.Groups["word"].Value;
            return word.StartsWith('-') ? $"unknown option '{word}'" : $"unexpected argument '{word}'";
        }

        return RequiredMissing().Match(message) is { Success: true } missing
            ? $"missing argument {missing.Groups["name"].Value.ToUpperInvariant()}"
            : null;
    }

    // With nothing after it, an option's "value" in the parser's message is the option itself (--ir, -j).
    private static bool IsOptionWord(string option, string value) =>
        string.Equals(value, option, StringComparison.OrdinalIgnoreCase) || (value.Length == 2 && value[0] == '-' && char.IsLetter(value[1]));

    // The parser names an option by its parameter: keepGoing is --keep-going.
    private static string OptionName(string parameter)
    {
        var name = new StringBuilder("--");
        foreach (var c in parameter)
        {
            if (char.IsUpper(c))
            {
                name.Append('-');
            }

            name.Append(char.ToLowerInvariant(c));
        }

        return name.ToString();
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^Argument '(?<name>\w+)' failed to parse, provided value: (?<value>.*)$")]
    private static partial Regex ParseFailed();

    [GeneratedRegex(@"^Argument '(?<name>\w+)' is invalid\. Provided value: (?<value>.*)\. Valid values: (?<choices>.+)$")]
    private static partial Regex ChoiceFailed();

    [GeneratedRegex(@"^Argument '(?<word>.*)' is not recognized\.$")]
    private static partial Regex NotRecognized();

    [GeneratedRegex(@"^Required argument '(?<name>\w+)' was not specified\.$")]
    private static partial Regex RequiredMissing();
}
