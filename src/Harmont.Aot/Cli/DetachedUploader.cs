using System.Diagnostics;
using System.Globalization;
using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Cli;

/// <summary>
/// Hands the pushes a local run left owed to this same program, started again as <c>cache push</c> in a session of
/// its own: the user gets the prompt back at once, and the upload goes on (its output in the cache dir's
/// <c>remote/push.log</c>) even if the terminal closes. Where that is not possible the next run finishes them.
/// </summary>
internal static class DetachedUploader
{
    /// <summary>Starts the uploader; returns the log it writes to, or null when it could not be started.</summary>
    public static string? Start(CliContext context, RemoteCacheSetting setting, string cacheDir)
    {
        if (context.Executable is not { } self || !File.Exists("/bin/sh"))
        {
            return null;
        }

        var log = Path.Combine(cacheDir, "remote", "push.log");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            var start = new ProcessStartInfo("/bin/sh")
            {
                UseShellExecute = false,
                RedirectStandardInput = false,
                WorkingDirectory = cacheDir,
            };

            // setsid where it exists, so the terminal's hang-up does not reach it; the shell returns once it is started.
            foreach (var arg in new[] { "-c", "if command -v setsid >/dev/null; then setsid \"$0\" cache push </dev/null >>\"$1\" 2>&1 & else nohup \"$0\" cache push </dev/null >>\"$1\" 2>&1 & fi", self, log })
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["HARMONT_CACHE_DIR"] = cacheDir;
            start.Environment[RemoteCacheSetting.EnvironmentVariable] = string.Create(
                CultureInfo.InvariantCulture, $"{setting}&timeout={setting.Timeout.TotalSeconds:0.###}s&push=wait");
            foreach (var name in new[] { RegistryCredentials.UserVariable, RegistryCredentials.PasswordVariable, "DOCKER_HOST", "DOCKER_CONFIG" })
            {
                if (context.GetEnv(name) is { } value)
                {
                    start.Environment[name] = value;
                }
            }

            using var shell = Process.Start(start);
            shell?.WaitForExit(TimeSpan.FromSeconds(5));
            return shell is { HasExited: true, ExitCode: 0 } ? log : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
