using System.Runtime.InteropServices;

namespace Harmont.Aot.Cli;

/// <summary>First SIGINT/SIGTERM cancels the run so it can clean up; a second one exits at once with 130.</summary>
internal sealed class SignalCancellation : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;
    private int _presses;

    /// <param name="outer">Tokens that also cancel, besides the signals.</param>
    public SignalCancellation(params CancellationToken[] outer)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _presses) > 1)
        {
            Environment.Exit(130);
        }

        Console.Error.WriteLine("harmont: cancelling; cleaning up (press Ctrl-C again to exit now)");
        _source.Cancel();
    }
}
