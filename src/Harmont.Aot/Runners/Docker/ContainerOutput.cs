namespace Harmont.Aot.Runners.Docker;

/// <summary>An attached container's multiplexed stdout/stderr stream; read it once, then dispose it.</summary>
internal sealed class ContainerOutput : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;

    internal ContainerOutput(HttpResponseMessage response, Stream stream)
    {
        _response = response;
        _stream = stream;
    }

    /// <summary>Hands over each line until the container's output closes, then flushes partial lines.</summary>
    public Task ReadLinesAsync(Action<LogStream, string> onLine, CancellationToken cancellationToken) =>
        ReadLinesAsync(onLine, SecretMasker.None, cancellationToken);

    /// <summary>Hands over each line as above, never cutting a long one inside a secret of <paramref name="masker"/>.</summary>
    public Task ReadLinesAsync(Action<LogStream, string> onLine, SecretMasker masker, CancellationToken cancellationToken) =>
        new LogFrameReader(onLine, masker: masker).ReadToEndAsync(_stream, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        _response.Dispose();
    }
}
