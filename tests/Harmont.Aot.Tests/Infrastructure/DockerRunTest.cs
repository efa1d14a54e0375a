namespace Harmont.Aot.Tests;

/// <summary>
/// A test class whose tests run pipelines on the Docker backend: one harness per test, the busybox image ensured
/// before it, and the harness's cache (and with it the images its entries hold) cleaned after.
/// </summary>
public abstract class DockerRunTest : IAsyncDisposable
{
    private protected RunHarness Harness { get; } = new();

    [Before(Test)]
    public async Task EnsureImageAsync() => await BusyboxImage.EnsureAsync();

    public async ValueTask DisposeAsync()
    {
        await Harness.RunAsync([], ["cache", "clean"]);
        Harness.Dispose();
        GC.SuppressFinalize(this);
    }
}
