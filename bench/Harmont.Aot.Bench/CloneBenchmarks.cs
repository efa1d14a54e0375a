using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Bench;

/// <summary>
/// A tree made once, and one fresh destination per iteration for a whole-tree clone of it, on the filesystem
/// <see cref="Root"/> names; writes are synced before each, so no iteration pays for the last one's writeback.
/// </summary>
public abstract class TreeCloneIterations
{
    private int _next;

    /// <summary>The filesystem the tree and its clones live on.</summary>
    protected abstract string Root { get; }

    /// <summary>How many files the tree has.</summary>
    protected abstract int TreeFiles { get; }

    protected string Source { get; private set; } = "";

    protected string Destination { get; private set; } = "";

    [GlobalSetup]
    public void Setup() => Source = BenchTrees.Ensure(Root, TreeFiles);

    [IterationSetup]
    public void NextDestination()
    {
        Cp.Sync();
        Destination = Path.Combine(Root, $"clone-{Environment.ProcessId}-{_next++}");
    }

    [IterationCleanup]
    public void DeleteDestination() => Directory.Delete(Destination, recursive: true);
}

/// <summary>One whole-tree clone per iteration, ours against coreutils' <c>cp</c>, on the same tree.</summary>
public abstract class TreeCloneBenchmarks : TreeCloneIterations
{
    [Params(1_000, 20_000)]
    public int Files { get; set; }

    protected override int TreeFiles => Files;

    /// <summary>The strategy under test.</summary>
    private protected abstract IWorkspaceStrategy Strategy { get; }

    /// <summary>The <c>cp</c> flags that do the same job.</summary>
    protected abstract string[] CpFlags { get; }

    [Benchmark(Baseline = true, Description = "cp")]
    public void Coreutils() => Cp.Run([.. CpFlags, Source, Destination]);

    [Benchmark(Description = "harmont")]
    public Task Harmont() => Strategy.CloneTreeAsync(Source, Destination, CancellationToken.None);
}

/// <summary>Our reflink clone against <c>cp -a --reflink=always</c>, on XFS.</summary>
public class ReflinkCloneBenchmarks : TreeCloneBenchmarks
{
    protected override string Root => BenchTrees.XfsRoot;

    private protected override IWorkspaceStrategy Strategy { get; } = new ReflinkStrategy();

    protected override string[] CpFlags => ["-a", "--reflink=always"];
}

/// <summary>Our copy fallback against <c>cp -a</c>, on ext4 where neither can reflink.</summary>
public class CopyBenchmarks : TreeCloneBenchmarks
{
    protected override string Root => BenchTrees.Ext4Root;

    private protected override IWorkspaceStrategy Strategy { get; } = new CopyStrategy();

    protected override string[] CpFlags => ["-a"];
}

/// <summary>Preparing an overlay workspace (mount, then unmount) over a 1k- and a 20k-file lower layer.</summary>
public class OverlayMountBenchmarks
{
    private const int MountsPerIteration = 20;

    private ILayeredWorkspaceStrategy _strategy = null!;
    private string _lower = "";
    private string _layer = "";
    private int _next;

    [Params(1_000, 20_000)]
    public int Files { get; set; }

    [Params(WorkspaceStrategies.Overlay, WorkspaceStrategies.FuseOverlay)]
    public string Strategy { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _lower = BenchTrees.Ensure(BenchTrees.XfsRoot, Files);
        _strategy = (ILayeredWorkspaceStrategy)WorkspaceStrategies.Create(Strategy, Environment.GetEnvironmentVariable);
    }

    [IterationSetup]
    public void NextLayer() => _layer = Path.Combine(BenchTrees.XfsRoot, $"layer-{Environment.ProcessId}-{_next++}");

    [IterationCleanup]
    public void DeleteLayer() => Directory.Delete(_layer, recursive: true);

    // One mount takes milliseconds: twenty per iteration, each with its own upper, steady the numbers.
    [Benchmark(Description = "mount + unmount", OperationsPerInvoke = MountsPerIteration)]
    public async Task MountAndUnmount()
    {
        for (var i = 0; i < MountsPerIteration; i++)
        {
            var layer = Path.Combine(_layer, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var mount = await _strategy.MountAsync([_lower], Path.Combine(layer, "upper"), Path.Combine(layer, "work"), Path.Combine(layer, "merged"), CancellationToken.None);
            mount.Unmount();
        }
    }
}

/// <summary>Runs coreutils cp, the baseline the issue measures us against.</summary>
internal static class Cp
{
    /// <summary>
    /// Flushes dirty pages before each measured iteration (not timed), so an iteration is not charged
    /// for writing back the previous one's copy: the disk of a VM otherwise dominates and scatters the numbers.
    /// </summary>
    public static void Sync()
    {
        using var process = Process.Start("sync");
        process.WaitForExit();
    }

    public static void Run(params string[] args)
    {
        using var process = Process.Start("cp", args);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"cp {string.Join(' ', args)} exited {process.ExitCode}");
        }
    }
}
