using System.Diagnostics;
using System.Text;

namespace Harmont.Aot.Tests;

/// <summary>Runs a process to completion and captures its interleaved output.</summary>
public static class Exec
{
    /// <summary>Redirected stdout and stderr, no shell, the given environment overrides.</summary>
    public static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, string workingDirectory, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in env)
        {
            psi.Environment[name] = value;
        }

        return psi;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(
        string file, IEnumerable<string> args, string workingDirectory, CancellationToken cancellationToken, params (string Name, string Value)[] env)
    {
        var psi = StartInfo(file, args, workingDirectory, env);

        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
