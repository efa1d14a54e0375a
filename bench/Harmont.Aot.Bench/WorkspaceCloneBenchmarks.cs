using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Bench;

/// <summary>Cost of preparing one step workspace from a source tree: our copy strategy against <c>cp -a</c>.</summary>
[MemoryDiagnoser]
public class WorkspaceCloneBenchmarks
{
    private string _root = "";
    private string _source = "";
    private int _next;

    [Params(1_000)]
    public int Files { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("harmont-bench-").FullName;
        _source = Path.Combine(_root, "source");
        var random = new Random(42);
        for (var i = 0; i < Files; i++)
        {
            var path = Path.Combine(_source, $"d{i % 37}", $"s{i % 5}", $"f{i}.txt");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var bytes = new byte[random.Next(100, 16_384)];
            random.NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true)]
    public void CpArchive()
    {
        var destination = Next();
        using var process = Process.Start("cp", ["-a", _source, destination]);
        process.WaitForExit();
        Directory.Delete(destination, recursive: true);
    }

    [Benchmark]
    public async Task CopyStrategy()
    {
        var destination = Next();
        await new CopyStrategy().CloneTreeAsync(_source, destination, CancellationToken.None);
        Directory.Delete(destination, recursive: true);
    }

    private string Next() => Path.Combine(_root, $"clone-{_next++}");
}
