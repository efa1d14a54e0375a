namespace Harmont.Aot.Tests;

/// <summary>A Debian 12 image with gcc, make and ccache, built by bench/zlib/debian-image.sh (tests/run.sh runs it as root).</summary>
public static class DebianGccImage
{
    /// <summary>The image reference; the script's tag.</summary>
    public const string Image = "harmont-test/debian-gcc:12";

    /// <summary>Fails the test, naming the script, when the engine does not have the image.</summary>
    public static async Task EnsureAsync()
    {
        var cancellationToken = TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;
        using var client = await DockerTestEngine.ConnectAsync();
        await Assert.That(await client.ImageExistsAsync(Image, cancellationToken))
            .IsTrue()
            .Because($"{Image} is missing; build it with 'bash bench/zlib/debian-image.sh' (tests/run.sh does, as root).");
    }
}
