using System.Runtime;

namespace Harmont.Aot.Cli;

/// <summary>
/// Keeps the garbage collector out of a run's short planning-and-hits phase. A no-op run allocates a
/// few tens of megabytes (the tree listing, the file hashes) and then exits; the one blocking full
/// collection the runtime would otherwise make in the middle of it is a tenth of the run's time (measured on
/// a 10k-file tree; on a few hundred files the region's own set-up is the larger cost, see <see cref="EnterFor"/>).
/// Past <see cref="Budget"/> the runtime ends the region itself and collects as usual.
/// </summary>
internal sealed class NoGcRegion : IDisposable
{
    /// <summary>Bytes the phase may allocate before the collector is let back in.</summary>
    public const long Budget = 128L * 1024 * 1024;

    // About 3,000 memoised files (72 bytes each).
    private const long BigMemo = 216 * 1024;

    private readonly bool _entered;

    private NoGcRegion(bool entered) => _entered = entered;

    /// <summary>
    /// Enters a region when the last run's hash memo (<paramref name="memoPath"/>) says the tree is big: setting one
    /// up costs about a millisecond, more than the collections a tree of a few thousand files would cause.
    /// </summary>
    public static NoGcRegion EnterFor(string memoPath)
    {
        try
        {
            return new FileInfo(memoPath) is { Exists: true, Length: > BigMemo } ? Enter() : new NoGcRegion(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new NoGcRegion(false);
        }
    }

    private static NoGcRegion Enter()
    {
        try
        {
            return new NoGcRegion(GC.TryStartNoGCRegion(Budget));
        }
        catch (InvalidOperationException)
        {
            return new NoGcRegion(false); // Already in one (a test host running commands side by side).
        }
    }

    public void Dispose()
    {
        if (_entered && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // The region already ended: the budget ran out and the collector ran.
            }
        }
    }
}
