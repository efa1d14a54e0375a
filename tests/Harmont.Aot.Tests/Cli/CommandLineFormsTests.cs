using System.Reflection;
using System.Text.RegularExpressions;
using Harmont.Aot.Cli;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>Every form of the command line users have written keeps working: each is rewritten into the parser's one form.</summary>
[NotInParallel(nameof(CommandLineFormsTests))]
public sealed class CommandLineFormsTests
{
    [Test]
    [Arguments("--format=json", "run --format json")]
    [Arguments("--format:json", "run --format json")]
    [Arguments("--format json", "run --format json")]
    [Arguments("-j 4", "run -j 4")]
    [Arguments("-j4", "run -j 4")]
    [Arguments("-j=4", "run -j 4")]
    [Arguments("-j:4", "run -j 4")]
    [Arguments("--parallelism=4", "run --parallelism 4")]
    [Arguments("-kj4", "run -k -j 4")]
    [Arguments("-jk", "run -j k")]
    [Arguments("-kpci", "run -k -p ci")]
    [Arguments("--pipeline=ci --ir=a=b:c", "run --pipeline ci --ir a=b:c")]
    [Arguments("cache prune --older-than=7d --max-size:1GiB", "cache prune --older-than 7d --max-size 1GiB")]
    public async Task Attached_and_bundled_values_become_separate_words(string written, string parsed) =>
        await Assert.That(Normalise(written)).IsEqualTo(parsed);

    [Test]
    [Arguments("--keep-going false -p ci", "run -p ci")]
    [Arguments("--keep-going true", "run --keep-going")]
    [Arguments("-k False", "run")]
    [Arguments("--explain=false --logs=true", "run --logs")]
    [Arguments("--logs=yes", "run --logs=yes")]
    [Arguments("--explain no", "run --explain no")]
    [Arguments("doctor --bench=false", "doctor")]
    [Arguments("doctor --bench true", "doctor --bench")]
    public async Task A_flag_followed_by_true_or_false_is_on_or_off(string written, string parsed) =>
        await Assert.That(Normalise(written)).IsEqualTo(parsed);

    [Test]
    [Arguments("", "run")]
    [Arguments("ci", "run ci")]
    [Arguments("-- ci", "run ci")]
    [Arguments("run -- ci", "run ci")]
    [Arguments("explain -- build", "explain build")]
    [Arguments("-j 2 -- ci", "run -j 2 ci")]
    [Arguments("list", "list")]
    [Arguments("cache ls", "cache ls")]
    [Arguments("--help", "--help")]
    [Arguments("--version", "--version")]
    public async Task Run_is_the_verb_when_none_is_named_and_what_follows_a_double_dash_is_positional(string written, string parsed) =>
        await Assert.That(Normalise(written)).IsEqualTo(parsed);

    [Test]
    [Arguments("-?", "--help")]
    [Arguments("/h", "run --help")]
    [Arguments("cache /?", "cache --help")]
    [Arguments("run -?", "run --help")]
    public async Task Every_help_spelling_is_help(string written, string parsed) =>
        await Assert.That(Normalise(written)).IsEqualTo(parsed);

    [Test]
    [Arguments("--ir -kj4", "run --ir -kj4")]
    [Arguments("-p --format=x", "run -p --format=x")]
    [Arguments("-j -1", "run -j -1")]
    [Arguments("-x4 --bogus=1", "run -x4 --bogus=1")]
    public async Task An_option_s_value_and_unknown_words_are_left_as_written(string written, string parsed) =>
        await Assert.That(Normalise(written)).IsEqualTo(parsed);

    [Test]
    public async Task A_response_file_stands_for_its_words_and_its_comment_lines_are_skipped()
    {
        var files = new Dictionary<string, string[]> { ["args.rsp"] = ["# the CI's flags", "-j 2 --format=json", "", "  ci  "] };

        var words = CommandLineForms.Normalise(["@args.rsp", "--logs"], path => files.GetValueOrDefault(path));

        await Assert.That(words)
            .IsEquivalentTo((IEnumerable<string>)["run", "-j", "2", "--format", "json", "ci", "--logs"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_missing_response_file_is_an_error_naming_it()
    {
        var error = (await Assert.That(() => CommandLineForms.Normalise(["@nope.rsp"], _ => null)).ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains("'nope.rsp'", StringComparison.Ordinal);
    }

    [Test]
    public async Task An_at_sign_after_a_double_dash_is_a_plain_argument()
    {
        await Assert.That(CommandLineForms.Normalise(["--", "@ci"], _ => throw new InvalidOperationException("not a response file")))
            .IsEquivalentTo((IEnumerable<string>)["run", "@ci"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task The_options_known_to_take_a_value_are_the_verbs_own()
    {
        var expected = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        var verbs = typeof(HarmontVerbs).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(m => !m.IsSpecialName);
        foreach (var parameter in verbs.SelectMany(m => m.GetParameters()).Where(p => !p.GetCustomAttributes().Any(a => a.GetType().Name == "ArgumentAttribute")))
        {
            await Expect(expected, OptionName(parameter.Name!), parameter.ParameterType != typeof(bool));
        }

        // Short names exist only in the verbs' XML docs ("-j, Most steps..."), so they are read from the help they make.
        var helps = new List<string>();
        foreach (var verb in await VerbsAsync())
        {
            var help = await HelpAsync([.. verb.Split(' '), "--help"]);
            helps.Add(help);
            foreach (Match alias in Regex.Matches(help, @"^\s+(?<short>-\w), (?<long>--[\w-]+)", RegexOptions.Multiline))
            {
                await Assert.That(expected.ContainsKey(alias.Groups["long"].Value)).IsTrue().Because(help);
                await Expect(expected, alias.Groups["short"].Value, expected[alias.Groups["long"].Value]);
            }
        }

        await Assert.That(helps.Count(h => h.Contains("-j, --parallelism", StringComparison.Ordinal))).IsEqualTo(1).Because(string.Join("\n", helps));
        await Assert.That(CommandLineForms.TakesValue).IsEquivalentTo(expected);
    }

    // One option name, one answer: the table cannot say that --format takes a value in one verb and not another.
    private static async Task Expect(SortedDictionary<string, bool> expected, string name, bool takesValue)
    {
        if (expected.TryGetValue(name, out var known))
        {
            await Assert.That(known).IsEqualTo(takesValue).Because(name);
        }

        expected[name] = takesValue;
    }

    // As the parser names a parameter: keepGoing is --keep-going.
    private static string OptionName(string parameter) =>
        "--" + string.Concat(parameter.Select(c => char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : c.ToString()));

    // The verbs as the root help lists them: "  cache prune   Evict...".
    private static async Task<IReadOnlyList<string>> VerbsAsync() =>
        [.. Regex.Matches(await HelpAsync(["--help"]), @"^  (?<verb>[a-z]+(?: [a-z]+)?)  ", RegexOptions.Multiline).Select(m => m.Groups["verb"].Value)];

    private static async Task<string> HelpAsync(string[] args)
    {
        var output = new StringWriter();
        var context = new CliContext(
            output, TextWriter.Null, Environment.CurrentDirectory, _ => null, DockerConnectors.FromEnvironment(_ => null), CancellationToken.None);
        await Assert.That(await HarmontCli.RunAsync(args, [], context)).IsEqualTo(0).Because(string.Join(' ', args));
        return output.ToString();
    }

    private static string Normalise(string written) =>
        string.Join(' ', CommandLineForms.Normalise(written.Split(' ', StringSplitOptions.RemoveEmptyEntries), _ => null));
}
