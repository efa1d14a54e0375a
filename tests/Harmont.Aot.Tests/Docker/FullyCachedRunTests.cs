using System.Net.Sockets;
using System.Text;
using Harmont.Aot.Cache;
using Harmont.Aot.Cli;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using Harmont.Aot.Scheduling;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Docker;

/// <summary>
/// A run whose steps all hit does no container work, so it asks the engine nothing but whether it answers; and
/// when a child runs after all from a parent whose hit skipped the engine (its own entry went in the meantime),
/// the parent's image and output are checked then.
/// </summary>
[Property("Requires", "docker")]
public sealed class FullyCachedRunTests : DockerRunTest
{
    private static readonly string[] AllSteps = ["tool", "build", "test"];

    private static PipelineDefinition Chain(StepDefinition? leaf = null) => Pipeline(
        "all-hit",
        Runner.Docker,
        Cached("tool", "echo tool > /etc/tool-mark && echo made > made.txt", null, Forever()),
        Cached("build", "cat /etc/tool-mark made.txt > built.txt", "tool", Forever()),
        leaf ?? Cached("test", "cat built.txt", "build", Forever()));

    [Test]
    public async Task A_run_whose_steps_all_hit_asks_the_engine_only_whether_it_answers()
    {
        var cold = await Harness.RunAsync(Chain());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());

        await using var engine = PingOnlyEngine.Start(Path.Combine(Harness.Root, "engine.sock"));
        Harness.Env["DOCKER_HOST"] = $"unix://{engine.Path}";
        var again = await Harness.RunAsync(Chain());
        Harness.Env.Remove("DOCKER_HOST");

        await Assert.That(again.ExitCode == 0).IsTrue().Because(again.ToString());
        await Assert.That(again.Executed).IsEmpty();
        await Assert.That(AllSteps.All(again.Hit)).IsTrue().Because(again.ToString());
        await Assert.That(engine.Requests).IsEquivalentTo((IEnumerable<string>)["GET /_ping HTTP/1.1"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task An_engine_that_does_not_answer_still_fails_a_run_whose_steps_need_docker()
    {
        var cold = await Harness.RunAsync(Chain());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());

        Harness.Env["DOCKER_HOST"] = $"unix://{Path.Combine(Harness.Root, "nothing.sock")}";
        var again = await Harness.RunAsync(Chain());
        Harness.Env.Remove("DOCKER_HOST");

        await Assert.That(again.ExitCode).IsEqualTo(ExitCodes.EngineUnavailable).Because(again.ToString());
        await Assert.That(again.Error).Contains("need Docker, but no engine answered");
    }

    [Test]
    public async Task A_child_that_runs_after_its_parent_hit_without_the_engine_gets_the_parents_image_and_output()
    {
        var cold = await Harness.RunAsync(Chain());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());

        // Every step looked cached when the run began; build's entry goes once tool has hit, so build runs from tool.
        var again = await RunRemovingAsync("build", removeParentImage: false);

        await Assert.That(again.ExitCode == 0).IsTrue().Because(again.ToString());
        await Assert.That(again.Hit("tool")).IsTrue();
        await Assert.That(again.Executed).IsEquivalentTo((IEnumerable<string>)["build"], CollectionOrdering.Matching);
        await Assert.That(again.Hit("test")).IsTrue();
        await Assert.That(await ShowBuiltAsync()).IsEquivalentTo((IEnumerable<string>)["tool", "made"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_child_whose_parents_image_went_in_the_meantime_fails_saying_to_run_again_and_the_next_run_executes_the_parent()
    {
        var cold = await Harness.RunAsync(Chain());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());

        var broken = await RunRemovingAsync("build", removeParentImage: true);
        await Assert.That(broken.ExitCode).IsEqualTo(1).Because(broken.ToString());
        await Assert.That(string.Join('\n', broken.LogsOf("build"))).Contains("cached image of 'tool'").And.Contains("run again");

        var next = await Harness.RunAsync(Chain());
        await Assert.That(next.ExitCode == 0).IsTrue().Because(next.ToString());
        await Assert.That(next.Executed).IsEquivalentTo((IEnumerable<string>)["tool", "build"], CollectionOrdering.Matching);
        await Assert.That(await ShowBuiltAsync()).IsEquivalentTo((IEnumerable<string>)["tool", "made"], CollectionOrdering.Matching);
    }

    // What build's cached output holds, read by a new leaf that starts from it.
    private async Task<IReadOnlyList<string>> ShowBuiltAsync()
    {
        var show = await Harness.RunAsync(Chain(Step("show", "cat built.txt", "build")));
        await Assert.That(show.ExitCode == 0).IsTrue().Because(show.ToString());
        await Assert.That(show.Executed).IsEquivalentTo((IEnumerable<string>)["show"], CollectionOrdering.Matching);
        return show.LogsOf("show");
    }

    // Runs the chain again; when "tool" hits, the entry of STEP is removed (and, if asked, tool's image), as a
    // concurrent eviction or prune would.
    private async Task<RunOutcome> RunRemovingAsync(string step, bool removeParentImage)
    {
        var store = new CacheStore(Harness.Cache, TimeProvider.System);
        var entries = store.List().ToDictionary(l => l.Entry.Step, l => l.Entry, StringComparer.Ordinal);
        using var engine = await DockerTestEngine.ConnectAsync();
        var observer = new OnHit("tool", () =>
        {
            if (!store.TryRemove(entries[step].Key))
            {
                throw new InvalidOperationException($"could not remove {step}'s entry");
            }

            if (removeParentImage)
            {
                var image = entries["tool"].Image!;
                foreach (var tag in engine.InspectImageAsync(image, CancellationToken.None).GetAwaiter().GetResult()?.RepoTags ?? [])
                {
                    engine.RemoveImageAsync(tag, force: true, CancellationToken.None).GetAwaiter().GetResult();
                }

                engine.RemoveImageAsync(image, force: true, CancellationToken.None).GetAwaiter().GetResult();
            }
        });
        var output = new StringWriter();
        var error = new StringWriter();
        string? Env(string name) => name == "HARMONT_CACHE_DIR" ? Harness.Cache : Environment.GetEnvironmentVariable(name);
        var context = new CliContext(output, error, Harness.Source, Env, DockerConnectors.FromEnvironment(Env), CancellationToken.None)
        {
            Observer = observer,
            Repository = Harness.Source,
        };
        var exitCode = await HarmontCli.RunAsync(["run"], [Chain()], context);
        return new RunOutcome(exitCode, output.ToString(), error.ToString(), observer.Events);
    }

    /// <summary>Records the run's events and acts once when a step hits.</summary>
    private sealed class OnHit(string step, Action act) : IRunEventSink
    {
        private readonly List<RunEvent> _events = [];

        public IReadOnlyList<RunEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public void Publish(RunEvent runEvent)
        {
            if (runEvent is StepCacheHit hit && hit.Step == step)
            {
                act();
            }

            lock (_events)
            {
                _events.Add(runEvent);
            }
        }
    }

    /// <summary>A socket that answers <c>GET /_ping</c> as an engine does and refuses the rest, keeping every request line.</summary>
    private sealed class PingOnlyEngine : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly Task _serving;
        private readonly List<string> _requests = [];

        private PingOnlyEngine(string path)
        {
            Path = path;
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(16);
            _serving = ServeAsync();
        }

        public string Path { get; }

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public static PingOnlyEngine Start(string path) => new(path);

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await Task.WhenAny(_serving);
            File.Delete(Path);
        }

        private async Task ServeAsync()
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }

                using (client)
                {
                    var buffer = new byte[4096];
                    var read = 0;
                    while (read < buffer.Length && !Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal)
                        && await client.ReceiveAsync(buffer.AsMemory(read)) is var n and > 0)
                    {
                        read += n;
                    }

                    var line = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
                    lock (_requests)
                    {
                        _requests.Add(line);
                    }

                    var reply = line.StartsWith("GET /_ping ", StringComparison.Ordinal)
                        ? "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
                        : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                    await client.SendAsync(Encoding.ASCII.GetBytes(reply));
                }
            }
        }
    }
}
