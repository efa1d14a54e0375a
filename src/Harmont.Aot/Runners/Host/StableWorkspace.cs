using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Runners.Host;

/// <summary>
/// The one path at which every host step of a pipeline sees its workspace, in every run, as a Docker
/// step sees <c>/workspace</c>: absolute paths a tool writes (CMake's cache, obj/ assets, a venv,
/// config.status) stay valid in a child step and after a cache hit.
/// </summary>
internal sealed class StableWorkspace : IDisposable
{
    /// <summary>Folder of the work dir that holds the stable paths.</summary>
    public const string Folder = "host";

    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(100);
    private readonly Lazy<Task<HostIsolation>> _isolation;

    /// <param name="path">The stable path (<see cref="PathFor"/>).</param>
    /// <param name="isolation">How steps get there; probed on first use, so a fully cached run never probes.</param>
    public StableWorkspace(string path, Func<Task<HostIsolation>> isolation)
    {
        Path = path;
        _isolation = new Lazy<Task<HostIsolation>>(isolation);
    }

    public string Path { get; }

    /// <summary>In-process half of the serial fallback's lock; the file lock beside the path is the cross-process half.</summary>
    public SemaphoreSlim SerialGate { get; } = new(1, 1);

    public Task<HostIsolation> IsolationAsync() => _isolation.Value;

    /// <summary>
    /// The lock file beside the path, across runs: a namespace step holds it shared, the serial
    /// fallback exclusive. Serial mode replaces the directory at the path, and removing a directory
    /// another namespace has a mount on detaches that mount there, so the two must never overlap
    /// (two runs of one pipeline, one with <c>HARMONT_HOST_ISOLATION=serial</c>). Waits for the holder.
    /// </summary>
    public async Task<FileStream> LockAsync(bool exclusive, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                // .NET takes flock(LOCK_EX) for FileShare.None, and flock(LOCK_SH) otherwise (always when opened to read).
                return exclusive
                    ? new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                    : new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (IOException)
            {
                await Task.Delay(LockPoll, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Makes the path an empty directory to bind over, if it is not one: a cleanup may have taken it,
    /// and a step of a serial run could have left a link there, which a mount would follow.
    /// </summary>
    public void EnsureMountPoint()
    {
        var entry = new FileInfo(Path);
        if (entry.LinkTarget is not null || entry.Exists)
        {
            entry.Delete();
        }

        Directory.CreateDirectory(Path);
    }

    public void Dispose() => SerialGate.Dispose();

    /// <summary>
    /// Keyed like the cache, by project identity and pipeline: two clones of one repository share
    /// entries, so they must share the path the entries' absolute paths point into.
    /// </summary>
    public static string PathFor(string workRoot, string project, string pipelineSlug)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(project + "\0" + pipelineSlug));
        return System.IO.Path.Combine(System.IO.Path.GetFullPath(workRoot), Folder, Convert.ToHexStringLower(hash)[..16]);
    }

    /// <summary>
    /// The stable workspace for <paramref name="pipeline"/>'s host steps. The isolation is probed
    /// now only when the user forced one, so an unusable choice stops the run before anything starts.
    /// </summary>
    public static async Task<StableWorkspace> ResolveAsync(
        PipelineDefinition pipeline, HostPaths paths, TextWriter notices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(paths);
        var project = await ProjectIdentity.ResolveAsync(pipeline.Project, paths.SourceRoot, cancellationToken);
        var path = PathFor(paths.WorkRoot, project, pipeline.Slug);
        Directory.CreateDirectory(path);

        // Runs once (the Lazy), so the notice is said once.
        async Task<HostIsolation> Probe()
        {
            var isolation = await HostIsolation.ProbeAsync(path, paths.GetEnv, CancellationToken.None);
            if (isolation.Mode == HostIsolationMode.Serial)
            {
                await notices.WriteLineAsync($"harmont: host steps of '{pipeline.Slug}' run one at a time at {path}: {isolation.Reason}.");
            }

            return isolation;
        }

        if (string.IsNullOrWhiteSpace(paths.GetEnv(HostIsolation.EnvironmentVariable)))
        {
            return new StableWorkspace(path, Probe);
        }

        var forced = await Probe();
        return new StableWorkspace(path, () => Task.FromResult(forced));
    }
}

/// <summary>What the host backend derives its stable workspace path from.</summary>
/// <param name="WorkRoot">The work dir (<c>HARMONT_WORK_DIR</c>, else <c>&lt;cache&gt;/work</c>).</param>
/// <param name="SourceRoot">The repository, for the project identity when the pipeline names none.</param>
/// <param name="GetEnv">The run's environment (<c>HARMONT_HOST_ISOLATION</c>).</param>
internal sealed record HostPaths(string WorkRoot, string SourceRoot, Func<string, string?> GetEnv);
