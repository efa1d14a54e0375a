namespace Harmont.Aot.Workspaces;

/// <summary>One live overlay mount; unmounting it is idempotent and safe from any thread.</summary>
internal sealed class OverlayMount : IDisposable
{
    private int _unmounted;

    public OverlayMount(string mergedPath) => MergedPath = mergedPath;

    /// <summary>Where the step sees its workspace.</summary>
    public string MergedPath { get; }

    /// <summary>Takes the mount down (once); the layers stay on disk.</summary>
    public void Unmount()
    {
        if (Interlocked.Exchange(ref _unmounted, 1) == 0)
        {
            MountTable.UnmountUnder(MergedPath);
        }
    }

    public void Dispose() => Unmount();
}
