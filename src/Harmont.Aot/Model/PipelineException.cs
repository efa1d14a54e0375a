namespace Harmont.Aot.Model;

/// <summary>The pipeline or the command line is wrong; the message names the problem and the fix. Exit code 2.</summary>
internal sealed class PipelineException : Exception
{
    public PipelineException(string message)
        : base(message)
    {
    }

    public PipelineException()
    {
    }

    public PipelineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
