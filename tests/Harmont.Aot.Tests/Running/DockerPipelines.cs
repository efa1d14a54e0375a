namespace Harmont.Aot.Tests;

// Pipelines the Docker tests run; compiled by the real generator into `Definition`.

[Pipeline("docker-chain", DefaultImage = BusyboxImage.Image, Runner = Runner.Docker)]
internal static partial class DockerChain
{
    // Writes into the workspace and outside it; only a commit carries the latter to children.
    [Step]
    private static string Setup() => "echo from-setup > made-by-setup.txt && mkdir -p /opt/tool && echo tool-v1 > /opt/tool/version";

    [Step(From = nameof(Setup))]
    private static string Build() => "cat made-by-setup.txt && cat /opt/tool/version && echo from-build > made-by-build.txt";

    [Step(From = nameof(Build)), Env("GREETING=hello from env")]
    private static string Verify() => "cat made-by-setup.txt made-by-build.txt /opt/tool/version source.txt && echo \"$GREETING\"";
}

[Pipeline("docker-fork", DefaultImage = BusyboxImage.Image, Runner = Runner.Docker)]
internal static partial class DockerFork
{
    [Step]
    private static string Base() => "echo base > base.txt";

    [Step(From = nameof(Base))]
    private static string Left() => Side("left", "right");

    [Step(From = nameof(Base))]
    private static string Right() => Side("right", "left");

    // Each side writes, waits long enough for the other to have written, then checks it sees nothing of it.
    private static string Side(string me, string other) =>
        $"echo {me} > {me}.txt && echo {me} > /etc/{me}-mark && sleep 2 && cat base.txt && " +
        $"if [ -e {other}.txt ] || [ -e /etc/{other}-mark ]; then echo LEAK; exit 9; fi; echo isolated";
}

[Pipeline("docker-fail", DefaultImage = BusyboxImage.Image, Runner = Runner.Docker)]
internal static partial class DockerFail
{
    [Step]
    private static string Prepare() => "echo ready";

    [Step(From = nameof(Prepare))]
    private static string Broken() => "echo about to fail && echo details on stderr >&2 && exit 3";

    [Step(From = nameof(Broken))]
    private static string Downstream() => "echo must not run";

    [Step(After = [nameof(Broken)])]
    private static string Waiter() => "echo must not run either";
}
