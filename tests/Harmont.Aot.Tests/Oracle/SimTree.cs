namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// The generator's rough idea of a workspace (file, directory or link per path), so that generated
/// operations mostly hit things that exist. It need not be exact: every operation is harmless when it
/// misses, and the oracle compares what really happened.
/// </summary>
internal sealed class SimTree
{
    private readonly SortedDictionary<string, char> _nodes;

    public SimTree(IEnumerable<string> files)
    {
        _nodes = new(StringComparer.Ordinal);
        foreach (var file in files)
        {
            AddFile(file);
        }
    }

    private SimTree(SortedDictionary<string, char> nodes) => _nodes = new(nodes, StringComparer.Ordinal);

    public SimTree Clone() => new(_nodes);

    public IReadOnlyList<string> Files => [.. _nodes.Where(n => n.Value == 'f').Select(n => n.Key)];

    /// <summary>Directories, the root (<c>""</c>) not included.</summary>
    public IReadOnlyList<string> Directories => [.. _nodes.Where(n => n.Value == 'd').Select(n => n.Key)];

    public IReadOnlyList<string> Entries => [.. _nodes.Keys];

    public bool Exists(string path) => _nodes.ContainsKey(path);

    public void AddFile(string path) => Add(path, 'f');

    public void AddLink(string path) => Add(path, 'l');

    public void AddDirectory(string path) => Add(path, 'd');

    /// <summary>Removes the path and everything below it.</summary>
    public void Remove(string path)
    {
        foreach (var key in _nodes.Keys.Where(k => OracleModel.Overlaps(path, k) && k.Length >= path.Length).ToList())
        {
            _nodes.Remove(key);
        }
    }

    public void Move(string from, string to)
    {
        var moved = _nodes.Where(n => n.Key == from || n.Key.StartsWith(from + "/", StringComparison.Ordinal)).ToList();
        Remove(from);
        foreach (var (key, kind) in moved)
        {
            Add(to + key[from.Length..], kind);
        }
    }

    private void Add(string path, char kind)
    {
        var parent = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(parent))
        {
            Add(parent, 'd');
        }

        _nodes[path] = kind;
    }
}
