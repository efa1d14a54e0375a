using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.Incremental;

/// <summary>A four-file C program with a Makefile and a test, and an incremental pipeline that builds it.</summary>
internal static class CProject
{
    public static readonly string[] Units = ["a", "b", "c", "main"];

    public static void Write(RunHarness harness, int b = 2)
    {
        harness.WriteSource("Makefile", string.Join('\n',
            "OBJS = a.o b.o c.o main.o",
            "app: $(OBJS)",
            "\tcc -o app $(OBJS)",
            "%.o: %.c lib.h",
            "\tcc -c $< -o $@",
            "test: app",
            "\t./app > out.txt && cmp out.txt expected.txt && echo tests-passed",
            ""));
        harness.WriteSource("lib.h", "int a(void); int b(void); int c(void);\n");
        harness.WriteSource("a.c", "#include \"lib.h\"\nint a(void) { return 1; }\n");
        harness.WriteSource("c.c", "#include \"lib.h\"\nint c(void) { return 3; }\n");
        harness.WriteSource("main.c", "#include <stdio.h>\n#include \"lib.h\"\nint main(void) { printf(\"sum=%d\\n\", a() + b() + c()); return 0; }\n");
        EditB(harness, b);
    }

    /// <summary>Changes what b() returns, and the test's expectation with it (expected.txt is no prerequisite of an object).</summary>
    public static void EditB(RunHarness harness, int b)
    {
        harness.WriteSource("b.c", $"#include \"lib.h\"\nint b(void) {{ return {b}; }}\n");
        harness.WriteSource("expected.txt", $"sum={1 + b + 3}\n");
    }

    /// <summary>configure (cached) then an incremental build-and-test.</summary>
    public static PipelineDefinition Pipeline(Aot.Runner runner, string? image = null, string configure = "echo configured > configured.txt", string build = "make test", string? project = null) => new()
    {
        Slug = "inc",
        Runner = runner,
        DefaultImage = image ?? BusyboxImage.Image,
        Project = project,
        Steps =
        [
            new StepDefinition
            {
                Key = "configure", Label = "configure", Command = () => configure, ConstantCommand = configure,
                Cache = [new ForeverCachePolicy([])],
            },
            new StepDefinition
            {
                Key = "build", Label = "build", Command = () => build, ConstantCommand = build, From = "configure", Incremental = true,
            },
        ],
    };

    /// <summary>The units make compiled in the run, from its echoed <c>cc -c X.c</c> lines.</summary>
    public static IReadOnlyList<string> Compiled(RunOutcome outcome) =>
        [.. outcome.LogsOf("build").Where(l => l.StartsWith("cc -c ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2].Replace(".c", "", StringComparison.Ordinal))];

    public static bool Passed(RunOutcome outcome) => outcome.ExitCode == 0 && outcome.LogsOf("build").Contains("tests-passed");

    public static bool StartedIncrementally(RunOutcome outcome) =>
        outcome.LogsOf("build").Any(l => l.StartsWith("harmont: incremental: starting from", StringComparison.Ordinal));
}
