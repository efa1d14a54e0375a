using System.Text;

namespace Harmont.Aot.Runners.Docker;

/// <summary>
/// A step's secrets as a shell file bind-mounted read-only into its container. Not container Env:
/// <c>docker commit</c> copies a container's Env into the image, and a secret must not outlive its step.
/// The file sits beside the workspace (never in it), readable only by its owner, and is deleted after the step.
/// </summary>
internal sealed class SecretsFile : IDisposable
{
    // /dev is a per-container tmpfs: the mount point lands there, not in the image a commit makes.
    public const string ContainerPath = "/dev/harmont-secrets.sh";

    private SecretsFile(string path) => HostPath = path;

    public string HostPath { get; }

    /// <summary>The command, preceded by sourcing the secrets so they are exported to it.</summary>
    public static string Wrap(string command) => $"set -a && . {ContainerPath} && set +a && {command}";

    public static SecretsFile Write(string workspace, IReadOnlyList<KeyValuePair<string, string>> secrets)
    {
        var path = Path.GetFullPath(workspace).TrimEnd('/') + $".secrets-{Guid.NewGuid():N}.sh";
        var text = new StringBuilder();
        foreach (var (name, value) in secrets)
        {
            // Single quotes keep every byte literal; a quote inside is closed, escaped and reopened.
            text.Append(name).Append("='").Append(value.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            writer.Write(text.ToString());
        }

        return new SecretsFile(path);
    }

    public void Dispose() => File.Delete(HostPath);
}
