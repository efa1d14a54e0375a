using System.Text.RegularExpressions;

namespace Harmont.Aot.Tests;

/// <summary>The live view in a real terminal (tmux), driven and read as a person would see it.</summary>
[Trait("Requires", "docker")]
public sealed class TtyViewTests : IDisposable
{
    private readonly string _session = $"harmont-tty-{Guid.NewGuid():N}";
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-tty-").FullName;

    public void Dispose()
    {
        _ = Tmux("kill-session", "-t", _session).Result;
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Live_view_nests_steps_by_lineage_and_ends_with_the_summary()
    {
        await BusyboxImage.EnsureAsync();
        await StartAsync("smoke --runner docker -j 2");

        var screen = await WaitForScreenAsync(s => s.Contains("EXIT=", StringComparison.Ordinal));

        Assert.Contains("EXIT=0", screen, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^✓ prepare\s+\d+\.\d\ds\s*$", screen);
        Assert.Matches(@"(?m)^✓   left\s+\d+\.\d\ds\s*$", screen);
        Assert.Matches(@"(?m)^✓   right\s+\d+\.\d\ds\s*$", screen);
        Assert.Single(Regex.Matches(screen, @"(?m)^✓   left\b"));
        Assert.Contains("harmont: pipeline 'smoke' passed", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("[left", screen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_steps_spin_survive_a_resize_and_ctrl_c_cancels_with_130()
    {
        await BusyboxImage.EnsureAsync();
        await StartAsync("sleepy --runner host -j 2");

        var running = await WaitForScreenAsync(s => Regex.IsMatch(s, @"(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]   tick\s+\d+\.\d\ds\s+tick \d+"));
        Assert.Matches(@"(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]   wait\s+\d+\.\d\ds\s+waiting", running);

        await Tmux("resize-window", "-t", _session, "-x", "40", "-y", "20");
        await Task.Delay(500, TestContext.Current.CancellationToken);
        await Tmux("resize-window", "-t", _session, "-x", "120", "-y", "30");
        await Task.Delay(500, TestContext.Current.CancellationToken);
        var resized = await Capture();
        Assert.Single(Regex.Matches(resized, @"(?m)^\S   tick\b"));
        Assert.Single(Regex.Matches(resized, @"(?m)^\S   wait\b"));
        Assert.All(resized.Split('\n'), line => Assert.True(line.TrimEnd().Length <= 120, line));

        await Tmux("send-keys", "-t", _session, "C-c");
        var ended = await WaitForScreenAsync(s => s.Contains("EXIT=", StringComparison.Ordinal));
        Assert.Contains("EXIT=130", ended, StringComparison.Ordinal);
        Assert.Contains("was cancelled (exit 130)", ended, StringComparison.Ordinal);
    }

    private async Task StartAsync(string arguments)
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        var cache = Path.Combine(_work, ".cache");

        // CI and GITHUB_ACTIONS would select plain output; a person at a terminal has neither.
        var command = $"cd {_work} && env -u CI -u GITHUB_ACTIONS HARMONT_CACHE_DIR={cache} {published.Binary} {arguments} --repo {_work}; echo EXIT=$?; sleep 120";
        var (exitCode, output) = await Tmux("new-session", "-d", "-s", _session, "-x", "120", "-y", "30", command);
        Assert.True(exitCode == 0, output);
    }

    private async Task<string> WaitForScreenAsync(Func<string, bool> ready)
    {
        var screen = "";
        for (var attempt = 0; attempt < 300; attempt++)
        {
            screen = await Capture();
            if (ready(screen))
            {
                return screen;
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the screen never got there; last capture:\n{screen}");
        return screen;
    }

    private async Task<string> Capture() => (await Tmux("capture-pane", "-p", "-t", _session)).Output;

    private static Task<(int ExitCode, string Output)> Tmux(params string[] args) =>
        Exec.RunAsync("tmux", args, Path.GetTempPath(), CancellationToken.None);
}
