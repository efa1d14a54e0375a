using System.Text;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>The one judge of entry records: each field a reader would use is checked before anything uses it.</summary>
[NotInParallel(nameof(CacheEntryRulesTests))]
public sealed class CacheEntryRulesTests
{
    private const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    private static readonly CacheEntry Valid = new() { Key = Key, Pipeline = "ci", Step = "build", Created = DateTimeOffset.UnixEpoch, Backend = "docker", Image = "sha256:" + Other };

    public static IEnumerable<(string, string)> Hostile => [
        ("key", "its key"),
        ("base", "its base"),
        ("base-self", "layered on itself"),
        ("base-whole-tree", "whole-tree entry"),
        ("strategy", "layer strategy"),
        ("strategy-alone", "no base entry"),
        ("image", "its image"),
        ("backend", "its backend"),
        ("pipeline", "pipeline name"),
        ("step", "step name"),
        ("step-surrogate", "unpaired surrogate"),
        ("size", "negative"),
        ("image-size", "past"),
        ("format", "format"),
    ];

    [Test]
    [MethodDataSource(nameof(Hostile))]
    public async Task Each_hostile_field_is_named_as_the_problem(string field, string says)
    {
        var entry = field switch
        {
            "key" => Valid with { Key = "../../tmp" },
            "base" => Valid with { Format = CacheEntry.LayeredFormat, Base = "../../../../tmp/victim", LayerStrategy = "overlay" },
            "base-self" => Valid with { Format = CacheEntry.LayeredFormat, Base = Key, LayerStrategy = "overlay" },
            "base-whole-tree" => Valid with { Base = Other, LayerStrategy = "overlay" },
            "strategy" => Valid with { Format = CacheEntry.LayeredFormat, Base = Other, LayerStrategy = "copy" },
            "strategy-alone" => Valid with { LayerStrategy = "overlay" },
            "image" => Valid with { Image = "sha256:" + Other.ToUpperInvariant() },
            "backend" => Valid with { Backend = "ssh" },
            "pipeline" => Valid with { Pipeline = "ci\u001b]0;owned\u0007" },
            "step" => Valid with { Step = "" },
            "step-surrogate" => Valid with { Step = "a\uD800b" },
            "size" => Valid with { Size = -1 },
            "image-size" => Valid with { ImageSize = long.MaxValue },
            "format" => Valid with { Format = 0 },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        await Assert.That(entry.Validate()).Contains(says, StringComparison.Ordinal);
    }

    [Test]
    public async Task Valid_whole_tree_and_layered_entries_pass()
    {
        await Assert.That(Valid.Validate()).IsNull();
        await Assert.That((Valid with { Format = CacheEntry.LayeredFormat, Base = Other, LayerStrategy = "fuse-overlayfs", Step = "tests 🧪" }).Validate())
            .IsNull();
    }

    [Test]
    public async Task A_record_too_large_or_not_json_is_refused_without_throwing()
    {
        var (big, bigProblem) = CacheEntryRules.Read(new MemoryStream(new byte[CacheEntryRules.MaxRecordBytes + 1]));
        var (garbage, garbageProblem) = CacheEntryRules.Read(new MemoryStream(Encoding.UTF8.GetBytes("{ \"key\": 3")));
        var (empty, emptyProblem) = CacheEntryRules.Read(new MemoryStream(Encoding.UTF8.GetBytes("null")));

        await Assert.That(big).IsNull();
        await Assert.That(bigProblem).Contains("larger than", StringComparison.Ordinal);
        await Assert.That(garbage).IsNull();
        await Assert.That(garbageProblem).Contains("not an entry record", StringComparison.Ordinal);
        await Assert.That(empty).IsNull();
        await Assert.That(emptyProblem).IsNotNull();
    }

    [Test]
    public async Task A_hostile_value_is_quoted_without_its_control_characters()
    {
        await Assert.That(CacheEntryRules.Quote("a\u001bb\n")).IsEqualTo("'a\\u001bb\\u000a'");
    }
}
