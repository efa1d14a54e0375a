using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Tests.Keys;

/// <summary>The managed SHA-256 a run hashes its keys with, against the platform's, on generated inputs.</summary>
public sealed class KeySha256Tests
{
    [Test]
    public async Task Every_length_around_the_block_and_padding_boundaries_hashes_as_the_platform_does()
    {
        var random = new Random(20261130);
        for (var length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            var managed = new byte[32];
            KeySha256.Managed(data, managed);
            await Assert.That(Convert.ToHexString(managed)).IsEqualTo(Convert.ToHexString(SHA256.HashData(data))).Because($"{length} bytes");
        }
    }

    [Test]
    public async Task Random_inputs_up_to_past_the_managed_limit_hash_as_the_platform_does()
    {
        var random = new Random(7);
        foreach (var length in Enumerable.Range(0, 40).Select(_ => random.Next(0, 3 * KeySha256.SmallInput)).Append(KeySha256.SmallInput).Append(KeySha256.SmallInput + 1))
        {
            var data = new byte[length];
            random.NextBytes(data);
            var expected = Convert.ToHexString(SHA256.HashData(data));
            var managed = new byte[32];
            KeySha256.Managed(data, managed);
            await Assert.That(Convert.ToHexString(managed)).IsEqualTo(expected).Because($"{length} bytes, managed");
            await Assert.That(Convert.ToHexString(KeySha256.HashData(data))).IsEqualTo(expected).Because($"{length} bytes, either way");
        }
    }

    [Test]
    public async Task A_field_hash_short_or_long_is_the_sha256_of_its_fields_each_ended_by_a_nul()
    {
        var random = new Random(11);
        foreach (var count in new[] { 0, 1, 3, 100, 5000, 20000 })
        {
            var fields = Enumerable.Range(0, count).Select(i => $"src/dir{random.Next(100)}/file-{i}-é.cs\u00e9{new string('x', random.Next(40))}").ToList();
            using var hash = new FieldHash();
            fields.ForEach(f => hash.Add(f));
            var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(fields.Select(f => f + "\0")))));
            await Assert.That(hash.FinishHex()).IsEqualTo(expected).Because($"{count} fields");
        }
    }
}
