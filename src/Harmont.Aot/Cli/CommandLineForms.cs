using Harmont.Aot.Model;

namespace Harmont.Aot.Cli;

/// <summary>
/// Rewrites the command-line forms users have always written into the one form the parser reads: <c>--format=json</c>,
/// <c>-j4</c>, <c>-kj4</c>, <c>--keep-going false</c>, <c>-?</c>, <c>@file</c>, <c>-- SLUG</c>, and <c>run</c> left out.
/// </summary>
internal static class CommandLineForms
{
    /// <summary>The first words that name a verb; anything else is an argument of the default verb, <c>run</c>.</summary>
    public static readonly string[] Verbs = ["run", "list", "render", "graph", "cache", "explain", "doctor", "stats", "tune"];

    /// <summary>
    /// Every option of every verb, long and short, and whether it takes a value; a name that a verb lacks is left to the
    /// parser to reject. Kept by hand, since the parser's own table is generated code with no list to read; a test
    /// derives it from the verbs' parameters and their help, and fails when the two disagree.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, bool> TakesValue = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["--parallelism"] = true, ["-j"] = true, ["--runner"] = true, ["--format"] = true, ["--ir"] = true,
        ["--pipeline"] = true, ["-p"] = true, ["--repo"] = true, ["--older-than"] = true, ["--max-size"] = true,
        ["--keep-going"] = false, ["-k"] = false, ["--logs"] = false, ["--explain"] = false,
        ["--cache-remote"] = true, ["--keep"] = true, ["--remote"] = false, ["--no-incremental"] = false, ["--last"] = true,
        ["--bench"] = false,
    };

    /// <summary>The arguments in the parser's form: verb first, every option and its value in separate words.</summary>
    /// <param name="args">As the user wrote them.</param>
    /// <param name="readFile">Reads a response file's lines; null when it does not exist.</param>
    /// <exception cref="PipelineException">A response file is missing.</exception>
    public static string[] Normalise(IReadOnlyList<string> args, Func<string, IEnumerable<string>?> readFile)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(readFile);
        var expanded = ExpandResponseFiles(args, readFile);
        if (expanded.Count == 0 || !(Verbs.Contains(expanded[0]) || expanded[0] is "-h" or "--help" or "-?" or "--version"))
        {
            expanded.Insert(0, "run");
        }

        var result = new List<string>(expanded.Count + 4);
        for (var i = 0; i < expanded.Count; i++)
        {
            var token = expanded[i];
            if (token == "--")
            {
                // What follows is positional whatever it looks like, and the parser would set it aside unread.
                result.AddRange(expanded.Skip(i + 1));
                break;
            }

            if (token is "-?" or "/?" or "/h")
            {
                result.Add("--help");
            }
            else if (SplitAttached(token) is var (name, value))
            {
                AddOption(result, token, name, value);
            }
            else if (Unbundle(token) is { } unbundled)
            {
                result.AddRange(unbundled);
            }
            else
            {
                result.Add(token);
                if (TakesValue.TryGetValue(token, out var takesValue))
                {
                    if (takesValue && i + 1 < expanded.Count)
                    {
                        result.Add(expanded[++i]); // A value is taken as written, even one that starts with '-'.
                    }
                    else if (!takesValue && i + 1 < expanded.Count && bool.TryParse(expanded[i + 1], out var on))
                    {
                        if (!on)
                        {
                            result.RemoveAt(result.Count - 1);
                        }

                        i++;
                    }
                }
            }
        }

        return [.. result];
    }

    // A flag's attached value says whether it is on: --keep-going=false is the flag left out.
    private static void AddOption(List<string> result, string token, string name, string value)
    {
        if (TakesValue[name])
        {
            result.Add(name);
            result.Add(value);
        }
        else if (!bool.TryParse(value, out var on))
        {
            result.Add(token); // Not a truth value: left whole, for the parser to name.
        }
        else if (on)
        {
            result.Add(name);
        }
    }

    // --name=value, --name:value, -j=4, -j:4, for a known option only, split at the first delimiter.
    private static (string Name, string Value)? SplitAttached(string token)
    {
        var at = token.IndexOfAny(['=', ':']);
        return at > 1 && token[0] == '-' && TakesValue.ContainsKey(token[..at]) ? (token[..at], token[(at + 1)..]) : null;
    }

    // -kj4 is -k -j 4: flags, then at most one option that takes the rest of the word as its value.
    private static List<string>? Unbundle(string token)
    {
        if (token.Length < 3 || token[0] != '-' || token[1] == '-' || TakesValue.ContainsKey(token))
        {
            return null;
        }

        var words = new List<string>();
        for (var i = 1; i < token.Length; i++)
        {
            var name = "-" + token[i];
            if (!TakesValue.TryGetValue(name, out var takesValue))
            {
                return null;
            }

            words.Add(name);
            if (takesValue)
            {
                words.Add(token[(i + 1)..]);
                return words;
            }
        }

        return words;
    }

    // @file stands for the words on the file's lines; a line starting with # is a comment.
    private static List<string> ExpandResponseFiles(IReadOnlyList<string> args, Func<string, IEnumerable<string>?> readFile)
    {
        var expanded = new List<string>(args.Count);
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (token == "--")
            {
                expanded.AddRange(args.Skip(i));
                break;
            }

            if (token.Length < 2 || token[0] != '@')
            {
                expanded.Add(token);
                continue;
            }

            var lines = readFile(token[1..])
                ?? throw new PipelineException($"response file '{token[1..]}' not found; write @FILE for a file holding the arguments, one or more a line.");
            foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#'))
            {
                expanded.AddRange(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return expanded;
    }
}
