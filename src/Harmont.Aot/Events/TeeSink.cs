namespace Harmont.Aot.Events;

/// <summary>Sends each event to several sinks, in order.</summary>
internal sealed class TeeSink(params IRunEventSink[] sinks) : IRunEventSink
{
    public void Publish(RunEvent runEvent)
    {
        foreach (var sink in sinks)
        {
            sink.Publish(runEvent);
        }
    }
}
