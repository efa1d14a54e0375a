using System.Diagnostics;

namespace Harmont.Aot.Tests;

/// <summary>A process whose output lines the test watches while it runs, and can signal.</summary>
public sealed class LiveProcess : IDisposable
{
    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    public LiveProcess(string file, IEnumerable<string> args, string workingDirectory, params (string Name, string Value)[] env)
    {
        // Through env, which resets the signals the tests send to their defaults before it execs the program (keeping its
        // pid): a suite started in the background (nohup, `cmd &` in a script, a CI step) inherits SIGINT ignored, and
        // the runner rightly keeps an inherited ignore, so a Ctrl-C test would wait for a signal that never comes.
        var psi = Exec.StartInfo("/usr/bin/env", ["--default-signal=HUP,INT,QUIT,TERM", file, .. args], workingDirectory, env);
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Waits for a line that matches, failing the test with the output so far after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var existing = _lines.FirstOrDefault(match);
            if (existing is not null)
            {
                return existing;
            }

            _waiters.Add((match, seen));
        }

        var done = await Task.WhenAny(seen.Task, Task.Delay(timeout, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None));
        await Assert.That(done == seen.Task).IsTrue().Because($"no matching line within {timeout}; output so far:\n{Output}");
        return await seen.Task;
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the process did not exit within {timeout}; output so far:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Seen.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }
}
