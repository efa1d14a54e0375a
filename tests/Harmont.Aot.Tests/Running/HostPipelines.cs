namespace Harmont.Aot.Tests;

// Pipelines the host-backend tests run; compiled by the real generator into `Definition`.

[Pipeline("host-chain", Runner = Runner.Host)]
internal static partial class HostChain
{
    [Step]
    private static string Setup() => "echo from-setup > made-by-setup.txt && cat source.txt";

    [Step(From = nameof(Setup))]
    private static string Build() => "cat made-by-setup.txt && echo from-build > made-by-build.txt";

    [Step(From = nameof(Build)), Env("GREETING=hello from env")]
    private static string Verify() => $"cat made-by-setup.txt made-by-build.txt && echo \"$GREETING\" && echo {Environment.ProcessorCount > 0}";
}

[Pipeline("host-fork", Runner = Runner.Host)]
internal static partial class HostFork
{
    [Step]
    private static string Base() => "echo base > base.txt";

    [Step(From = nameof(Base))]
    private static string Left() => "echo left > left.txt && sleep 1 && if [ -e right.txt ]; then echo LEAK; exit 9; fi; ls";

    [Step(From = nameof(Base))]
    private static string Right() => "echo right > right.txt && sleep 1 && if [ -e left.txt ]; then echo LEAK; exit 9; fi; ls";
}

[Pipeline("host-source", Runner = Runner.Host)]
internal static partial class HostSource
{
    // Lists the workspace, then scribbles on it: none of that may reach the user's tree.
    [Step]
    private static string Inspect() => "find . -type f | sort && echo scribble > tracked.txt && rm -f untracked.txt";
}

[Pipeline("host-fail", Runner = Runner.Host)]
internal static partial class HostFail
{
    [Step]
    private static string Fails() => "sleep 1 && echo partial output && exit 42";

    [Step]
    private static string Slow() => "sleep 4 && echo slow-finished";

    [Step(From = nameof(Fails))]
    private static string Child() => "echo must not run";
}

[Pipeline("host-list", Runner = Runner.Host)]
internal static partial class HostList
{
    [Step]
    private static string Inspect() => "find . -type f | sort";
}
