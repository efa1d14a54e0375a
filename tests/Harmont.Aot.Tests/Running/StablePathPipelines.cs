namespace Harmont.Aot.Tests;

// Host pipelines whose steps depend on their workspace keeping one absolute path; compiled by the real generator.

[Pipeline("host-cmake", Runner = Runner.Host)]
internal static partial class HostCMake
{
    // CMakeCache.txt records the absolute source and build directories: the child must find them.
    [Step, CacheForever]
    private static string Configure() => "cmake -S . -B build > /dev/null && echo configured";

    [Step(From = nameof(Configure))]
    private static string Build() => "cmake --build build > /dev/null && ./build/hello";
}

[Pipeline("host-pwd", Runner = Runner.Host)]
internal static partial class HostPwd
{
    [Step, CacheForever]
    private static string Record() => "mkdir -p sub && pwd > recorded-pwd.txt && pwd";

    // Logical and physical pwd, and `cd "$PWD"`, must all agree with what the parent recorded.
    [Step(From = nameof(Record))]
    private static string Check() =>
        "pwd && pwd -P && cd \"$PWD\" && test \"$(cat recorded-pwd.txt)\" = \"$(pwd -P)\" && echo same-as-parent";

    [Step(From = nameof(Record), Cwd = "sub")]
    private static string InSub() => "pwd -P && cat ../recorded-pwd.txt";
}
