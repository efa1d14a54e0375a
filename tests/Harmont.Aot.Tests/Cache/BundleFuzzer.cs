using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>What the fuzzer knows of a bundle it made: valid by construction, invalid by construction, or mangled (either).</summary>
internal enum FuzzVerdict
{
    Valid,
    Invalid,
    Unknown,
}

/// <summary>
/// Makes one random bundle from a seed: well-formed entries with members drawn from everything a workspace
/// holds, mixed with hostile members aimed at <c>outside</c> (link chains, hard links, '..', absolute paths,
/// devices, odd-byte and overlong names, bad records), then perhaps truncated or with header bytes flipped.
/// </summary>
internal sealed class BundleFuzzer(int seed, string outside)
{
    private const int ChainLength = 16;
    private readonly Random _random = new(seed);
    private readonly List<string> _log = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _files = [];
    private TarWriter _tar = null!;
    private FuzzVerdict _verdict = FuzzVerdict.Valid;

    /// <summary>The members made, one line each, for the failure message.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary>Writes the bundle (compressed as export does) to <paramref name="path"/>; says what it should do.</summary>
    public FuzzVerdict Write(string path, out IReadOnlyList<string> keys)
    {
        using var raw = new MemoryStream();
        var made = new List<string>();
        using (_tar = new TarWriter(raw, TarEntryFormat.Pax, leaveOpen: true))
        {
            for (var e = _random.Next(1, 3); e > 0; e--)
            {
                var key = Convert.ToHexString(Bytes(32)).ToLowerInvariant();
                made.Add(key);
                WriteEntry(key);
            }
        }

        keys = made;
        var tar = raw.ToArray();
        if (_random.Next(6) == 0)
        {
            tar = Mangle(tar);
        }

        // One in eight as older runners wrote them: the gzip reader faces the same members.
        using (var compressed = _random.Next(8) == 0
            ? new GZipStream(System.IO.File.Create(path), CompressionLevel.Fastest)
            : CacheBundleFormat.Compress(System.IO.File.Create(path)))
        {
            compressed.Write(tar);
        }

        if (_random.Next(25) == 0)
        {
            using var file = System.IO.File.OpenWrite(path);
            file.SetLength(_random.NextInt64(file.Length));
            Unknown("stream cut short");
        }

        return _verdict;
    }

    private void WriteEntry(string key)
    {
        var prefix = $"entries/{key}/";
        var hasWorkspace = _random.Next(4) != 0;
        Member(new PaxTarEntry(TarEntryType.Directory, prefix));
        Member(new PaxTarEntry(TarEntryType.Directory, prefix + "workspace"));
        Member(File(prefix + "sources", HostileBundle.EmptySources + "100644 - src.txt\0"));
        var record = _random.Next(12) == 0 ? HostileRecord(key) : HostileBundle.Record(key, e => e with { HasWorkspace = hasWorkspace });
        var members = _random.Next(0, 14);
        for (var i = 0; i < members; i++)
        {
            if (_random.Next(8) == 0)
            {
                Hostile(key);
            }
            else
            {
                Workspace(key);
            }
        }

        Member(File(prefix + "entry.json", record));
    }

    private void Workspace(string key)
    {
        var dir = $"entries/{key}/workspace/";
        switch (_random.Next(8))
        {
            case 0:
                Member(new PaxTarEntry(TarEntryType.Directory, dir + Fresh("d")));
                break;
            case 1:
                Member(new PaxTarEntry(TarEntryType.Directory, dir + Fresh("o"), new Dictionary<string, string> { [CacheBundleFormat.OpaqueRecord] = "y" }));
                break;
            case 2:
                // A link's target is data: in the entry, climbing out of it, absolute, or naming nothing.
                string[] targets = ["f0", "../sources", outside, "../../../../../../../../.." + outside, "/usr/bin/python3", "/nowhere/at/all"];
                Member(new PaxTarEntry(TarEntryType.SymbolicLink, dir + Fresh("s")) { LinkName = targets[_random.Next(targets.Length)] });
                break;
            case 3 when _files.Count > 0 && _files[^1].StartsWith(dir, StringComparison.Ordinal):
                Member(new PaxTarEntry(TarEntryType.HardLink, dir + Fresh("h")) { LinkName = _files[^1] });
                break;
            case 4:
                Member(new PaxTarEntry(TarEntryType.CharacterDevice, dir + Fresh("w")));
                break;
            case 5:
                var odd = Bytes(_random.Next(1, 40)).Select(b => b is 0 or (byte)'/' ? (byte)0xff : b).ToArray();
                var name = dir + Fresh("x") + Native.PathBytes.Decode(odd);
                var records = new Dictionary<string, string> { [CacheBundleFormat.PathRecord] = Convert.ToBase64String(Native.PathBytes.Encode(name)) };
                Member(File(dir + Fresh("stand-in"), "odd", records));
                break;
            case 6:
                ChainOf(dir + Fresh("c"));
                break;
            default:
                var path = dir + Fresh("f") + (_random.Next(5) == 0 ? new string('n', 200) : "");
                Member(File(path, Encoding.ASCII.GetString(Bytes(_random.Next(0, 3000)).Select(b => (byte)('a' + (b % 26))).ToArray())));
                _files.Add(path);
                break;
        }
    }

    private void Hostile(string key)
    {
        var dir = $"entries/{key}/workspace/";
        var chain = dir + Fresh("c");
        _verdict = FuzzVerdict.Invalid;
        switch (_random.Next(16))
        {
            case 0:
                ChainOf(chain);
                Member(File($"{chain}/l{ChainLength - 1}{outside}/escaped", "x"));
                break;
            case 1:
                ChainOf(chain);
                Member(new PaxTarEntry(TarEntryType.Directory, $"{chain}/l{ChainLength - 1}{outside}/made"));
                break;
            case 2:
                ChainOf(chain);
                Member(File(dir + "payload-" + Fresh("p"), "x"));
                Member(new PaxTarEntry(TarEntryType.HardLink, $"{chain}/l{ChainLength - 1}{outside}/hard") { LinkName = _log[^1].Split(' ')[1] });
                break;
            case 3:
                ChainOf(chain);
                Member(new PaxTarEntry(TarEntryType.HardLink, dir + Fresh("h")) { LinkName = $"{chain}/l{ChainLength - 1}{outside}/canary.txt" });
                break;
            case 4:
                Member(File($"{outside}/absolute", "x"));
                break;
            case 5:
                Member(File(dir + string.Concat(Enumerable.Repeat("../", 12)) + outside.TrimStart('/') + "/dotdot", "x"));
                break;
            case 6:
                // The link alone is data; a member placed through it would write outside.
                var link = dir + Fresh("s");
                Member(new PaxTarEntry(TarEntryType.SymbolicLink, link) { LinkName = _random.Next(2) == 0 ? outside : "../../../../../../../../.." + outside });
                Member(File($"{link}/escaped", "x"));
                break;
            case 7:
                Member(new PaxTarEntry(_random.Next(2) == 0 ? TarEntryType.CharacterDevice : TarEntryType.BlockDevice, dir + Fresh("dev")) { DeviceMajor = 1, DeviceMinor = 3 });
                break;
            case 8:
                Member(new PaxTarEntry(TarEntryType.Fifo, dir + Fresh("fifo")));
                break;
            case 9:
                var again = dir + Fresh("dup");
                Member(File(again, "one"));
                Member(File(again, "two"));
                break;
            case 10:
                Member(File($"entries/{key[..63]}/entry.json", "{}"));
                break;
            case 11:
                Member(File($"entries/{key}/{(_random.Next(2) == 0 ? "extra" : "entry.json/inner")}", "x"));
                break;
            case 12:
                var records = new Dictionary<string, string> { [CacheBundleFormat.PathRecord] = _random.Next(2) == 0 ? "%%%" : Convert.ToBase64String(Encoding.ASCII.GetBytes(dir + "a\0b")) };
                Member(File(dir + Fresh("bad-record"), "x", records));
                break;
            case 13:
                Member(new PaxTarEntry(TarEntryType.Directory, dir + Fresh("o"), new Dictionary<string, string> { [CacheBundleFormat.OpaqueRecord] = "n" }));
                break;
            case 14:
                Member(File(dir + Fresh("sparse"), "x", new Dictionary<string, string> { ["GNU.sparse.major"] = "1" }));
                break;
            default:
                Member(File(dir + Fresh("f") + "/" + new string('n', 300), "x"));
                break;
        }
    }

    // l0 -> .., l1 -> l0/.., ...: every link stays inside the entry on its own; together they climb to /.
    private void ChainOf(string directory)
    {
        Member(new PaxTarEntry(TarEntryType.Directory, directory));
        for (var i = 0; i < ChainLength; i++)
        {
            Member(new PaxTarEntry(TarEntryType.SymbolicLink, $"{directory}/l{i}") { LinkName = i == 0 ? ".." : $"l{i - 1}/.." });
        }
    }

    private string HostileRecord(string key)
    {
        _verdict = FuzzVerdict.Invalid;
        var climb = string.Concat(Enumerable.Repeat("../", 8)) + outside.TrimStart('/');
        return _random.Next(7) switch
        {
            0 => HostileBundle.Record(key, e => e with { Format = CacheEntry.LayeredFormat, Base = climb, LayerStrategy = "overlay" }),
            1 => HostileBundle.Record(key, e => e with { Key = climb }),
            2 => HostileBundle.Record(key, e => e with { Image = climb }),
            3 => HostileBundle.Record(key, e => e with { Step = "\n" }),
            4 => HostileBundle.Record(key, e => e with { Size = -5 }),
            5 => "{ \"key\": ",
            _ => HostileBundle.Record(key, e => e with { Format = 2 }),
        };
    }

    private byte[] Mangle(byte[] tar)
    {
        Unknown("mangled");
        if (_random.Next(2) == 0)
        {
            return tar[.._random.Next(tar.Length)];
        }

        for (var flips = _random.Next(1, 4); flips > 0; flips--)
        {
            // A header's fields: name, mode, size, type, link name, magic.
            var block = _random.Next(tar.Length / 512) * 512;
            tar[block + _random.Next(0, 350)] = (byte)_random.Next(256);
        }

        return tar;
    }

    private void Unknown(string why)
    {
        // A flipped byte can as well turn a hostile member harmless (a link name no longer matching) as break a valid one.
        _log.Add($"({why})");
        _verdict = FuzzVerdict.Unknown;
    }

    private void Member(TarEntry member)
    {
        _log.Add($"{member.EntryType} {member.Name}{(member.LinkName is { Length: > 0 } link ? " -> " + link : "")}");
        _tar.WriteEntry(member);
    }

    private static PaxTarEntry File(string name, string content, Dictionary<string, string>? records = null) =>
        new(TarEntryType.RegularFile, name, records ?? []) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private string Fresh(string stem)
    {
        var name = $"{stem}{_names.Count}";
        _names.Add(name);
        return name;
    }

    private byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }
}
