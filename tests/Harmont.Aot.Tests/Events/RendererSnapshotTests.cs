using System.Runtime.CompilerServices;
using System.Text.Json;
using Harmont.Aot.Events;

namespace Harmont.Aot.Tests;

/// <summary>Each renderer's text for one scripted run, against checked-in snapshots (HARMONT_UPDATE_SNAPSHOTS=1 rewrites).</summary>
[NotInParallel(nameof(RendererSnapshotTests))]
public sealed class RendererSnapshotTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Test]
    public async Task Plain_output_prefixes_lines_and_ends_with_the_summary() =>
        await Match("plain.txt", Render(w => new PlainRenderer(w)));

    [Test]
    public async Task GitHub_actions_output_groups_each_step_and_annotates_the_failure() =>
        await Match("github.txt", Render(w => new PlainRenderer(w, gitHubActions: true)));

    [Test]
    public async Task Json_output_is_one_event_object_per_line_and_nothing_else()
    {
        var text = Render(w => new JsonRenderer(w));
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            await Assert.That(document.RootElement.TryGetProperty("event", out _)).IsTrue().Because(line);
        }

        await Match("events.ndjson", text);
    }

    [Test]
    public async Task Tty_frame_nests_by_lineage_spins_running_steps_and_never_exceeds_the_width()
    {
        var rows = new TtyRow[]
        {
            new("deps", 0, StepStatus.Passed, TimeSpan.FromMilliseconds(1), null, Cached: true),
            new("prepare", 0, StepStatus.Passed, TimeSpan.FromSeconds(1.5), null),
            new("build", 1, null, TimeSpan.FromSeconds(12.25), "Compiling \u001b[1mHarmont\u001b[0m\tproject"),
            new("test", 2, StepStatus.Failed, TimeSpan.FromSeconds(3), null),
            new("lint", 1, StepStatus.TimedOut, TimeSpan.FromMinutes(2.5), null),
            new("a-step-with-a-very-long-name-indeed", 1, null, TimeSpan.Zero, new string('x', 300)),
        };

        var wide = TtyFrame.Compose(rows, width: 100, tick: 3);
        var narrow = TtyFrame.Compose(rows, width: 30, tick: 4);

        foreach (var line in narrow)
        {
            await Assert.That(line.Length <= 29).IsTrue().Because(line);
        }
        await Match("tty-frame.txt", string.Join('\n', wide) + "\n--- width 30\n" + string.Join('\n', narrow) + "\n");
    }

    private static string Render(Func<TextWriter, IRunEventSink> create)
    {
        using var output = new StringWriter { NewLine = "\n" };
        var sink = create(output);
        foreach (var e in Script())
        {
            sink.Publish(e);
        }

        (sink as IDisposable)?.Dispose();
        return output.ToString();
    }

    // prepare → build → test fails; build → lint runs alongside and is cancelled; report waits and is skipped.
    private static IEnumerable<RunEvent> Script()
    {
        yield return new BuildStarted(T0, "ci", "20260102-030405-abcdef", ["deps", "prepare", "build", "test", "lint", "report"])
        {
            Parents = new Dictionary<string, string> { ["build"] = "prepare", ["test"] = "build", ["lint"] = "build" },
        };
        foreach (var step in new[] { "deps", "prepare", "build", "test", "lint", "report" })
        {
            yield return new StepQueued(T0, step);
        }

        yield return new StepCacheHit(T0.AddMilliseconds(2), "deps", "3f2a9c1e5b7d4f608a1c2e3b4d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f");
        yield return new StepFinished(T0.AddMilliseconds(3), "deps", StepStatus.Passed, null, TimeSpan.FromMilliseconds(1), null);

        yield return new StepStarted(T0.AddMilliseconds(100), "prepare", "docker");
        yield return new StepLog(T0.AddMilliseconds(200), "prepare", false, "fetching \"deps\" 100%");
        yield return new StepFinished(T0.AddMilliseconds(1100), "prepare", StepStatus.Passed, 0, TimeSpan.FromSeconds(1), null);
        yield return new StepStarted(T0.AddMilliseconds(1200), "build", "docker");
        yield return new StepLog(T0.AddMilliseconds(1300), "build", false, "compiling");
        yield return new StepFinished(T0.AddMilliseconds(5200), "build", StepStatus.Passed, 0, TimeSpan.FromSeconds(4), null);
        yield return new StepStarted(T0.AddMilliseconds(5300), "test", "docker");
        yield return new StepStarted(T0.AddMilliseconds(5300), "lint", "host");
        yield return new StepLog(T0.AddMilliseconds(5400), "lint", false, "lint: checking");
        yield return new StepLog(T0.AddMilliseconds(5500), "test", false, "1 test failed");
        yield return new StepLog(T0.AddMilliseconds(5600), "test", true, "Assert.Equal failure: 100% wrong");
        yield return new StepFinished(T0.AddMilliseconds(6300), "test", StepStatus.Failed, 2, TimeSpan.FromSeconds(1), null);
        yield return new StepFailure(T0.AddMilliseconds(6300), "test", StepStatus.Failed, 2, "step 'test' failed with exit code 2");
        yield return new StepFinished(T0.AddMilliseconds(6400), "lint", StepStatus.Cancelled, null, TimeSpan.FromSeconds(1.1), "the run stopped after a failure");
        yield return new StepFinished(T0.AddMilliseconds(6400), "report", StepStatus.Skipped, null, TimeSpan.Zero, "test, lint did not pass");
        yield return new BuildFinished(T0.AddMilliseconds(6500), "ci", 1, TimeSpan.FromSeconds(6.5));
    }

    private static async Task Match(string name, string actual, [CallerFilePath] string testFile = "")
    {
        if (Environment.GetEnvironmentVariable("HARMONT_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots", name), actual);
            return;
        }

        // The copy beside the test assembly: the compile-time path may not exist where tests run.
        var path = Path.Combine(AppContext.BaseDirectory, "Events", "Snapshots", name);
        await Assert.That(File.Exists(path)).IsTrue().Because($"no snapshot {path}; run with HARMONT_UPDATE_SNAPSHOTS=1 and review it");
        await Assert.That(actual).IsEqualTo(File.ReadAllText(path));
    }
}
