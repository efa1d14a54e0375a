namespace Harmont.Aot.Runners;

/// <summary>A step needs Docker and no engine answered. Exit code 4.</summary>
internal sealed class EngineUnavailableException : Exception
{
    public EngineUnavailableException(string message)
        : base(message)
    {
    }

    public EngineUnavailableException()
    {
    }

    public EngineUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
