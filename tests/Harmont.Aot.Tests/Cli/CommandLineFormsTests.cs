using Harmont.Aot.Cli;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>Every form of the command line users have written keeps working: each is rewritten into the parser's one form.</summary>
public sealed class CommandLineFormsTests
{
    [Theory]
    [InlineData("--format=json", "run --format json")]
    [InlineData("--format:json", "run --format json")]
    [InlineData("--format json", "run --format json")]
    [InlineData("-j 4", "run -j 4")]
    [InlineData("-j4", "run -j 4")]
    [InlineData("-j=4", "run -j 4")]
    [InlineData("-j:4", "run -j 4")]
    [InlineData("--parallelism=4", "run --parallelism 4")]
    [InlineData("-kj4", "run -k -j 4")]
    [InlineData("-jk", "run -j k")]
    [InlineData("-kpci", "run -k -p ci")]
    [InlineData("--pipeline=ci --ir=a=b:c", "run --pipeline ci --ir a=b:c")]
    [InlineData("cache prune --older-than=7d --max-size:1GiB", "cache prune --older-than 7d --max-size 1GiB")]
    public void Attached_and_bundled_values_become_separate_words(string written, string parsed) =>
        Assert.Equal(parsed, Normalise(written));

    [Theory]
    [InlineData("--keep-going false -p ci", "run -p ci")]
    [InlineData("--keep-going true", "run --keep-going")]
    [InlineData("-k False", "run")]
    [InlineData("--explain=false --logs=true", "run --logs")]
    [InlineData("--logs=yes", "run --logs=yes")]
    [InlineData("--explain no", "run --explain no")]
    public void A_flag_followed_by_true_or_false_is_on_or_off(string written, string parsed) =>
        Assert.Equal(parsed, Normalise(written));

    [Theory]
    [InlineData("", "run")]
    [InlineData("ci", "run ci")]
    [InlineData("-- ci", "run ci")]
    [InlineData("run -- ci", "run ci")]
    [InlineData("explain -- build", "explain build")]
    [InlineData("-j 2 -- ci", "run -j 2 ci")]
    [InlineData("list", "list")]
    [InlineData("cache ls", "cache ls")]
    [InlineData("--help", "--help")]
    [InlineData("--version", "--version")]
    public void Run_is_the_verb_when_none_is_named_and_what_follows_a_double_dash_is_positional(string written, string parsed) =>
        Assert.Equal(parsed, Normalise(written));

    [Theory]
    [InlineData("-?", "--help")]
    [InlineData("/h", "run --help")]
    [InlineData("cache /?", "cache --help")]
    [InlineData("run -?", "run --help")]
    public void Every_help_spelling_is_help(string written, string parsed) =>
        Assert.Equal(parsed, Normalise(written));

    [Theory]
    [InlineData("--ir -kj4", "run --ir -kj4")]
    [InlineData("-p --format=x", "run -p --format=x")]
    [InlineData("-j -1", "run -j -1")]
    [InlineData("-x4 --bogus=1", "run -x4 --bogus=1")]
    public void An_option_s_value_and_unknown_words_are_left_as_written(string written, string parsed) =>
        Assert.Equal(parsed, Normalise(written));

    [Fact]
    public void A_response_file_stands_for_its_words_and_its_comment_lines_are_skipped()
    {
        var files = new Dictionary<string, string[]> { ["args.rsp"] = ["# the CI's flags", "-j 2 --format=json", "", "  ci  "] };

        var words = CommandLineForms.Normalise(["@args.rsp", "--logs"], path => files.GetValueOrDefault(path));

        Assert.Equal(["run", "-j", "2", "--format", "json", "ci", "--logs"], words);
    }

    [Fact]
    public void A_missing_response_file_is_an_error_naming_it()
    {
        var error = Assert.Throws<PipelineException>(() => CommandLineForms.Normalise(["@nope.rsp"], _ => null));

        Assert.Contains("'nope.rsp'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_at_sign_after_a_double_dash_is_a_plain_argument()
    {
        Assert.Equal(["run", "@ci"], CommandLineForms.Normalise(["--", "@ci"], _ => throw new InvalidOperationException("not a response file")));
    }

    private static string Normalise(string written) =>
        string.Join(' ', CommandLineForms.Normalise(written.Split(' ', StringSplitOptions.RemoveEmptyEntries), _ => null));
}
