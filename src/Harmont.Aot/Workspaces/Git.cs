using System.Diagnostics;

namespace Harmont.Aot.Workspaces;

/// <summary>Runs the user's <c>git</c> in a directory; git, not us, is the authority on the work tree.</summary>
internal static class Git
{
    /// <summary>What one git command printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs <c>git args</c> in <paramref name="directory"/>; null when git is not installed.</summary>
    public static async Task<Result?> RunAsync(string directory, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        using (process)
        {
            // Both streams are drained at once: a full stderr pipe would otherwise stall git.
            var output = ReadBytesAsync(process.StandardOutput.BaseStream, cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);

            // Paths are bytes: decoded losslessly, so a name that is not UTF-8 still names its file.
            return new Result(process.ExitCode, Native.PathBytes.Decode(await output), await error);
        }
    }

    private static async Task<byte[]> ReadBytesAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
