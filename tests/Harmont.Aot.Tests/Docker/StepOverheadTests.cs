using System.Globalization;
using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Cli;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Docker;

/// <summary>
/// What a Docker step no longer pays for (bench/README.md, "Per-step overhead"): no commit when the container
/// changed nothing outside its workspace or when nothing starts from it, no wait on its removal, and the
/// network mode it asks for.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(StepOverheadTests))]
public sealed class StepOverheadTests : DockerRunTest
{
    [Test]
    public async Task A_step_that_changes_only_its_workspace_is_not_committed_and_its_children_still_see_the_parents_system_state()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var run = await Harness.RunAsync(Pipeline(
            "overhead-empty-diff",
            Runner.Docker,
            Step("system", "echo sys > /etc/mark", null),
            Step("files", "echo ws > files.txt && mkdir -p sub", "system"),
            new StepDefinition { Key = "in-sub", Label = "in-sub", Command = () => "pwd > where.txt", ConstantCommand = "pwd > where.txt", From = "files", Cwd = "sub" },
            Step("show", "cat /etc/mark files.txt sub/where.txt", "in-sub")));
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("show")).IsEquivalentTo((IEnumerable<string>)["sys", "ws", "/workspace/sub"], CollectionOrdering.Matching);

        // The engine's own record: "files" and "in-sub" (whose working directory the engine made under the
        // workspace's mount point) changed nothing a container can see; "show" is an uncached leaf.
        var committed = await EngineEventsAsync(RunIdOf(run), "commit", since, until);
        await Assert.That(committed).IsEquivalentTo((IEnumerable<string>)["system"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task An_uncached_leaf_is_not_committed()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var run = await Harness.RunAsync(Pipeline("overhead-leaf", Runner.Docker, Step("leaf", "echo changed > /etc/leaf-mark", null)));
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(await EngineEventsAsync(RunIdOf(run), "commit", since, until)).IsEmpty();
    }

    [Test]
    public async Task A_cached_step_that_changes_nothing_shares_its_parents_image_and_evicting_the_parent_leaves_it_whole(CancellationToken cancellationToken)
    {
        var pipeline = Pipeline(
            "overhead-shared",
            Runner.Docker,
            Cached("tool", "echo tool > /etc/tool-mark", null, Forever()),
            Cached("build", "echo built > build.txt", "tool", Forever()),
            Step("use", "cat /etc/tool-mark build.txt", "build"));
        var first = await Harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        var store = new CacheStore(Harness.Cache, TimeProvider.System);
        var tool = store.List().Single(l => l.Entry.Step == "tool");
        var build = store.List().Single(l => l.Entry.Step == "build").Entry;
        await Assert.That(build.Image).IsEqualTo(tool.Entry.Image);
        await Assert.That(build.ImageSize).IsEqualTo(0);
        using var client = await DockerTestEngine.ConnectAsync();
        var shared = (await client.InspectImageAsync(build.Image!, cancellationToken))!;
        await Assert.That(shared.RepoTags).Contains(Harness.CacheReference(tool.Entry.Key));
        await Assert.That(shared.RepoTags).Contains(Harness.CacheReference(build.Key));

        // The parent's entry leaves the store after its tag moved elsewhere (a re-recorded key): its image,
        // which is the child's too, must stay, though the engine would delete a one-name image asked by id.
        var busybox = (await client.InspectImageAsync(BusyboxImage.Image, cancellationToken))!.Id;
        await client.TagImageAsync(busybox, DockerNames.CacheRepository(OwnerLock.Label(Harness.Cache)), DockerNames.CacheTag(tool.Entry.Key), cancellationToken);
        await Assert.That(store.TryRemove(tool.Entry.Key)).IsTrue();
        await using (var backend = await DockerTestEngine.BackendAsync())
        {
            backend.CacheLabel = OwnerLock.Label(Harness.Cache);
            await CachePlanning.RemoveImagesAsync([tool], backend, TextWriter.Null);
        }

        await client.RemoveImageAsync(Harness.CacheReference(tool.Entry.Key), force: false, cancellationToken);
        await Assert.That(await client.ImageExistsAsync(build.Image!, cancellationToken)).IsTrue();

        var second = await Harness.RunAsync(pipeline);
        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("build")).IsTrue().Because(second.ToString());
        await Assert.That(second.LogsOf("use")).IsEquivalentTo((IEnumerable<string>)["tool", "built"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Every_container_is_gone_when_a_run_ends_on_a_failure()
    {
        var run = await Harness.RunAsync(Pipeline(
            "overhead-fail",
            Runner.Docker,
            Step("passes", "echo ok > /etc/ok", null),
            Step("fails", "exit 3", "passes"),
            Step("slow", "sleep 30", null)), "--parallelism", "3");

        await Assert.That(run.ExitCode).IsEqualTo(1).Because(run.ToString());
        await Assert.That(await ContainersOfAsync(RunIdOf(run))).IsEmpty();
    }

    [Test]
    public async Task Every_container_is_gone_when_a_run_is_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        var events = new CancelOnLine(cancel, "sleeping");
        var pipeline = Pipeline(
            "overhead-cancel",
            Runner.Docker,
            Step("passes", "echo ok > /etc/ok", null),
            Step("sleeps", "echo sleeping && sleep 60", "passes"));
        var context = new CliContext(
            TextWriter.Null, TextWriter.Null, Harness.Source, Env, DockerConnectors.FromEnvironment(Env), cancel.Token)
        {
            Observer = events,
            Repository = Harness.Source,
        };

        var exitCode = await HarmontCli.RunAsync(["run"], [pipeline], context);

        await Assert.That(exitCode).IsEqualTo(130);
        await Assert.That(await ContainersOfAsync(events.RunId!)).IsEmpty();
    }

    [Test]
    [Arguments(Network.None)]
    [Arguments(Network.Default)]
    [Arguments(Network.Host)]
    public async Task A_steps_network_mode_reaches_its_container(Network network)
    {
        var step = Step("net", "ls /sys/class/net", null);
        var run = await Harness.RunAsync(Pipeline(
            "overhead-network",
            Runner.Docker,
            new StepDefinition { Key = step.Key, Label = step.Label, Command = step.Command, ConstantCommand = step.ConstantCommand, Network = network }));

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        // A host's veth pairs come and go with other containers, so the host's side is compared without them.
        static bool Lasting(string? name) => name is not null && !name.StartsWith("veth", StringComparison.Ordinal);
        var interfaces = run.LogsOf("net").SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(Lasting).ToList();
        IEnumerable<string> expected = network switch
        {
            Network.None => ["lo"],
            Network.Default => ["eth0", "lo"],
            _ => Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).Where(Lasting).Order(StringComparer.Ordinal)!,
        };
        await Assert.That(interfaces.Order(StringComparer.Ordinal)).IsEquivalentTo(expected, CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_namespace_is_kept_only_for_steps_that_may_still_run()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var single = await Harness.RunAsync(Pipeline("overhead-one-step", Runner.Docker, Step("only", "true", null)));
        var pair = await Harness.RunAsync(Pipeline("overhead-two-steps", Runner.Docker, Step("one", "true", null), Step("two", "true", "one")));
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        await Assert.That(single.ExitCode == 0 && pair.ExitCode == 0).IsTrue().Because($"{single}\n{pair}");
        await Assert.That(await EngineEventsAsync(RunIdOf(single), "create", since, until)).IsEquivalentTo((IEnumerable<string>)["only"], CollectionOrdering.Matching);
        await Assert.That(await EngineEventsAsync(RunIdOf(pair), "create", since, until))
            .IsEquivalentTo((IEnumerable<string>)["one", DockerBackend.NetworkHolderStep, "two"], CollectionOrdering.Any);
        await Assert.That(await ContainersOfAsync(RunIdOf(pair))).IsEmpty();
    }

    [Test]
    public async Task A_namespace_holder_on_a_cached_image_is_gone_when_the_run_returns(CancellationToken cancellationToken)
    {
        // On the second run the root is a hit, so the first step to run, and the holder beside it, start on the
        // root's cached image, which the cache may remove as soon as the run is over: that holder is waited for.
        var pipeline = Pipeline(
            "overhead-holder-on-cache",
            Runner.Docker,
            Cached("root", "echo root > /etc/root-mark", null, Forever()),
            Step("one", "cat /etc/root-mark", "root"),
            Step("two", "cat /etc/root-mark", "one"));
        var first = await Harness.RunAsync(pipeline);
        var second = await Harness.RunAsync(pipeline);

        await Assert.That(first.ExitCode == 0 && second.ExitCode == 0).IsTrue().Because($"{first}\n{second}");
        await Assert.That(second.Hit("root")).IsTrue().Because(second.ToString());
        using var client = await DockerTestEngine.ConnectAsync();
        var label = $"{DockerNames.RunLabel}={RunIdOf(second)}";
        await Assert.That(await client.ListContainersAsync(label, cancellationToken)).IsEmpty();
        await Assert.That(await EngineEventsAsync(RunIdOf(second), "create", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1)))
            .Contains(DockerBackend.NetworkHolderStep);
    }

    private static readonly string[] SharedNetworkSteps = ["first", "second", "third", "fourth", "beside", "own"];

    [Test]
    public async Task Steps_on_the_default_network_reuse_a_namespace_on_the_bridge_one_after_another_but_never_at_once()
    {
        const string Show = "readlink /proc/self/ns/net && ls /sys/class/net | tr '\\n' ' ' && echo";
        static StepDefinition On(Network network, string key, string command, string? from) =>
            new() { Key = key, Label = key, Command = () => command, ConstantCommand = command, From = from, Network = network };
        var run = await Harness.RunAsync(
            Pipeline(
                "overhead-shared-network",
                Runner.Docker,
                Step("first", Show, null),
                Step("second", "sleep 1 && " + Show, "first"),
                Step("third", Show, "second"),
                Step("fourth", Show, "third"),
                Step("beside", "sleep 1 && " + Show, "first"),
                On(Network.Bridge, "own", Show, "fourth")),
            "--parallelism", "2");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        string Namespace(string step) => run.LogsOf(step)[0];
        foreach (var step in SharedNetworkSteps)
        {
            // Every one on the engine's bridge, whoever's namespace it is.
            await Assert.That(run.LogsOf(step)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order()).IsEquivalentTo((IEnumerable<string>)["eth0", "lo"], CollectionOrdering.Matching).Because(step);
        }

        // second and beside ran at once (a second each, two slots): never one namespace. third and fourth ran
        // after, alone: each reuses one the run had started. The explicit bridge is a namespace of its own, never the
        // holder's third and fourth shared (alive until the run's end). It is not compared with the steps that may
        // have had one of their own (first, beside, and second if its holder was still starting): theirs ended
        // with them, and the kernel may give a dead namespace's number to the next one.
        await Assert.That(Namespace("second")).IsNotEqualTo(Namespace("beside"));
        await Assert.That(Namespace("third")).IsEqualTo(Namespace("fourth"));
        await Assert.That(Namespace("own")).IsNotEqualTo(Namespace("third"));
        await Assert.That(await ContainersOfAsync(RunIdOf(run))).IsEmpty();
    }

    private string? Env(string name) => name == "HARMONT_CACHE_DIR" ? Harness.Cache : Environment.GetEnvironmentVariable(name);

    private static string RunIdOf(RunOutcome run) => run.Events.OfType<BuildStarted>().Single().RunId;

    private static async Task<IReadOnlyList<string>> ContainersOfAsync(string runId)
    {
        using var client = await DockerTestEngine.ConnectAsync();
        var containers = await client.ContainersLeftAsync($"{DockerNames.RunLabel}={runId}", CancellationToken.None);
        return [.. containers.Select(c => c.Names.FirstOrDefault() ?? c.Id)];
    }

    // The steps whose containers the engine reports EVENT for between the two times, for one run.
    private static async Task<IReadOnlyList<string>> EngineEventsAsync(string runId, string engineEvent, DateTimeOffset since, DateTimeOffset until)
    {
        var (exit, output) = await Exec.RunAsync(
            "docker",
            [
                "events",
                "--since", since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                "--until", until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                "--filter", "type=container", "--filter", $"event={engineEvent}",
                "--filter", $"label={DockerNames.RunLabel}={runId}",
                "--format", $"{{{{index .Actor.Attributes \"{DockerNames.StepLabel}\"}}}}",
            ],
            Environment.CurrentDirectory,
            TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(exit).IsEqualTo(0);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Cancels the run, as Ctrl-C does, once a step prints <paramref name="line"/>.</summary>
    private sealed class CancelOnLine(CancellationTokenSource cancel, string line) : IRunEventSink
    {
        public string? RunId { get; private set; }

        public void Publish(RunEvent runEvent)
        {
            if (runEvent is BuildStarted started)
            {
                RunId = started.RunId;
            }
            else if (runEvent is StepLog log && log.Line == line)
            {
                cancel.Cancel();
            }
        }
    }
}
