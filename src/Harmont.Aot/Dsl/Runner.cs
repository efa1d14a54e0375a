namespace Harmont.Aot;

/// <summary>Which backend runs a step.</summary>
public enum Runner
{
    /// <summary>Use the pipeline's (or the command line's) choice.</summary>
    Inherit = 0,

    /// <summary>Docker when an engine answers, otherwise the host.</summary>
    Auto = 1,

    /// <summary>A Docker container per step, committed on success.</summary>
    Docker = 2,

    /// <summary>A child process on this machine; no system state is captured.</summary>
    Host = 3,
}
